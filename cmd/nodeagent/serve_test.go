package main

import (
	"context"
	"strings"
	"testing"
)

// TestProxyBindAddressFlags: kube-proxy's flag names on `nodeagent proxy`,
// proxy- prefixed on the agent (whose --healthz-bind-address is kubelet's);
// a value that is no IP:port is refused, an empty one turns the listener
// off.
func TestProxyBindAddressFlags(t *testing.T) {
	env, _ := testEnv()
	for _, tc := range []struct {
		run  func(context.Context, *environment, []string) error
		args []string
	}{
		{runProxy, []string{"--metrics-bind-address", "127.0.0.1"}},
		{runProxy, []string{"--healthz-bind-address", "10256"}},
		{runAgent, []string{"--proxy-metrics-bind-address", "localhost"}},
	} {
		err := tc.run(context.Background(), env, tc.args)
		if err == nil || !strings.Contains(err.Error(), "want IP:port") {
			t.Errorf("%v: %v, want the flag refused", tc.args, err)
		}
	}
	o := defaultAgentOptions()
	if o.proxy.healthzBindAddress != "0.0.0.0:10256" || o.proxy.metricsBindAddress != "127.0.0.1:10249" {
		t.Errorf("defaults %q %q, want kube-proxy's", o.proxy.healthzBindAddress, o.proxy.metricsBindAddress)
	}
	for _, args := range [][]string{{"--metrics-bind-address="}, {"--healthz-bind-address", ""}} {
		err := runProxy(context.Background(), env, args)
		if err == nil || !strings.Contains(err.Error(), "--kubeconfig is required") {
			t.Errorf("%v: %v, want the flags accepted (then no kubeconfig)", args, err)
		}
	}
}
