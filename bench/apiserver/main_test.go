package main

import (
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/bench/internal/kubeanchor"
)

func TestParseFlagsDefaults(t *testing.T) {
	cfg, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg != defaultConfig() {
		t.Errorf("got %+v, want the defaults %+v", cfg, defaultConfig())
	}
	if _, why := cfg.anchorWanted(); !strings.Contains(why, "--kube-apiserver") {
		t.Errorf("without --kube-apiserver the anchor should be skipped with a reason, got %q", why)
	}
}

func TestParseFlagsQuickGivesWayToExplicitFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"--quick", "--list-pods", "150", "--kube-apiserver", "/k", "--etcd", "/e"})
	if err != nil {
		t.Fatal(err)
	}
	q := quickConfig()
	if cfg.Pods != q.Pods || cfg.Nodes != q.Nodes || cfg.ListPods != 150 || cfg.Timeout != 40*time.Minute {
		t.Errorf("got pods %d nodes %d list-pods %d timeout %s, want %d %d 150 40m", cfg.Pods, cfg.Nodes, cfg.ListPods, cfg.Timeout, q.Pods, q.Nodes)
	}
	bins, why := cfg.anchorWanted()
	if why != "" || bins != (kubeanchor.Bins{APIServer: "/k", Etcd: "/e"}) {
		t.Errorf("anchor: got %+v %q", bins, why)
	}
}

func TestParseFlagsRefusals(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--kube-apiserver", "/k"}, "go together"},
		{[]string{"--etcd", "/e"}, "go together"},
		{[]string{"--list-pods", "20000"}, "more than --pods"},
		{[]string{"--nodes", "100"}, "99 nodes"},
		{[]string{"--nodes", "0"}, "at least 1"},
		{[]string{"extra"}, "unexpected arguments"},
	} {
		if _, err := parseFlags(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error with %q", tc.args, err, tc.want)
		}
	}
}

func TestPlaced(t *testing.T) {
	for _, tc := range []struct{ n, m, k, want int }{
		{5000, 50, 0, 100}, {5000, 100, 0, 50}, {105, 50, 4, 3}, {105, 50, 5, 2}, {3, 10, 0, 1}, {3, 10, 3, 0},
	} {
		if got := placed(tc.n, tc.m, tc.k); got != tc.want {
			t.Errorf("placed(%d, %d, %d) = %d, want %d", tc.n, tc.m, tc.k, got, tc.want)
		}
		count := 0
		for i := range tc.n {
			if i%tc.m == tc.k {
				count++
			}
		}
		if count != tc.want {
			t.Errorf("case %+v: counting gives %d", tc, count)
		}
	}
}

func TestPodMakerBindsAndLabels(t *testing.T) {
	m := podMaker{nodes: 50}
	p := m.pod("x", 151)
	if p.Spec.NodeName != "bench-node-01" || p.Labels["bench-shard"] != "s51" {
		t.Errorf("pod 151: node %q shard %q, want bench-node-01 s51", p.Spec.NodeName, p.Labels["bench-shard"])
	}
}
