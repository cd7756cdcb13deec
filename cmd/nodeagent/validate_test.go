package main

import (
	"context"
	"strings"
	"testing"
)

// TestBadFlagsAreRefusedFirst: a value the agent, the runtime, the proxy
// or the server cannot run with is refused, naming the flag, before
// anything is dialled, made or touched (here without --kubeconfig, which
// was the only complaint before).
func TestBadFlagsAreRefusedFirst(t *testing.T) {
	env, _ := testEnv()
	ctx := context.Background()
	dir := t.TempDir()
	cases := []struct {
		run  func(context.Context, *environment, []string) error
		args []string
		want string
	}{
		{runAgent, []string{"--node-name", "n1", "--pod-cidr", "10.244.0.0/33"}, "--pod-cidr"},
		{runAgent, []string{"--node-name", "n1", "--pleg-relist-period", "0s"}, "--pleg-relist-period"},
		{runAgent, []string{"--node-name", "n1", "--port", "0"}, "--port"},
		{runAgent, []string{"--node-name", "n1", "--containerd-namespace", "a/b"}, "--containerd-namespace"},
		{runAgent, []string{"--node-name", "n1", "--proxy-full-sync-interval", "0s"}, "--proxy-full-sync-interval"},
		{runAgent, []string{"--node-name", "N_1", "--cleanup"}, "--node-name"},
		{runAgent, []string{"--node-name", "n1", "--image-gc-high-threshold", "70"}, "must be less than imageGCHighThresholdPercent (--image-gc-high-threshold) 70"},
		{runAgent, []string{"--node-name", "n1", "--image-gc-low-threshold", "-1"}, "--image-gc-low-threshold"},
		{runAgent, []string{"--node-name", "n1", "--minimum-image-ttl-duration", "-1m"}, "--minimum-image-ttl-duration"},
		{runAgent, []string{"--node-name", "n1", "--container-log-max-files", "1"}, "--container-log-max-files) 1 must be greater than 1"},
		{runAgent, []string{"--node-name", "n1", "--container-log-max-size", "ten"}, "--container-log-max-size"},
		{runAgent, []string{"--node-name", "n1", "--maximum-dead-containers-per-container", "0"}, "--maximum-dead-containers-per-container"},
		{runAgent, []string{"--node-name", "n1", "--shutdown-grace-period", "10s", "--shutdown-grace-period-critical-pods", "20s"},
			"--shutdown-grace-period-critical-pods"},
		{runAgent, []string{"--node-name", "n1", "--eviction-hard", "memory.free<1Gi"}, "unsupported eviction signal memory.free"},
		{runAgent, []string{"--node-name", "n1", "--eviction-soft", "memory.available<1Gi"}, "grace period must be specified for the soft eviction threshold memory.available"},
		{runAgent, []string{"--node-name", "n1", "--eviction-hard", "memory.available"}, "eviction-hard"},
		{runAgent, []string{"--node-name", "n1", "--system-reserved", "gpu=1"}, "--system-reserved"},
		{runAgent, []string{"--node-name", "n1", "--cgroup-driver", "cgroupv3"}, "cgroup-driver"},
		{runProxy, []string{"--node-name", "n1", "--masquerade-bit", "40"}, "--masquerade-bit"},
		{runProxy, []string{"--node-name", "n1", "--proxy-mode", "userspace"}, "--proxy-mode"},
		{runProxy, []string{"--node-name", "n1", "--proxy-mode", "ipvs", "--masquerade-bit", "13"}, "--ipvs-no-masquerade-bit"},
		{runServer, []string{"--data-dir", dir, "--secure-port", "0"}, "--secure-port"},
		{runServer, []string{"--data-dir", dir, "--node-name", "n1", "--pod-cidr", "x"}, "--pod-cidr"},
	}
	for _, c := range cases {
		err := c.run(ctx, env, c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one naming %s", c.args, err, c.want)
		}
	}
}
