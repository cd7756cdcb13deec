package main

import (
	"strings"
	"testing"

	"github.com/nodeagent/nodeagent/bench/internal/kubeanchor"
)

func TestParseFlagsKubeProxy(t *testing.T) {
	cfg, err := parseFlags([]string{"--quick", "--kube-proxy=/kp", "--kube-apiserver=/ka", "--etcd=/e"})
	if err != nil {
		t.Fatal(err)
	}
	bins, why := cfg.kubeWanted()
	if why != "" || bins != (kubeBins{proxy: "/kp", anchor: kubeanchor.Bins{APIServer: "/ka", Etcd: "/e"}}) {
		t.Errorf("got %+v %q", bins, why)
	}
	if cfg, err = parseFlags(nil); err != nil {
		t.Fatal(err)
	}
	if _, why := cfg.kubeWanted(); !strings.Contains(why, "no --kube-proxy") {
		t.Errorf("without the binaries: %q, want why kube-proxy is not measured", why)
	}
}

func TestParseFlagsRefusesPartOfTheAnchor(t *testing.T) {
	for _, args := range [][]string{
		{"--kube-proxy=/kp"},
		{"--kube-proxy=/kp", "--kube-apiserver=/ka"},
		{"--kube-apiserver=/ka", "--etcd=/e"},
	} {
		if _, err := parseFlags(args); err == nil || !strings.Contains(err.Error(), "go together") {
			t.Errorf("%q: got %v, want a refusal", args, err)
		}
	}
}

// TestKubeProxyArgsStayOnLoopback: kube-proxy's servers listen on the lab
// node's loopback only, and it leaves the host-wide conntrack sysctls.
func TestKubeProxyArgsStayOnLoopback(t *testing.T) {
	args := kubeProxyArgs("/k", "nftables")
	for _, want := range []string{"--healthz-bind-address=127.0.0.1:10256", "--metrics-bind-address=127.0.0.1:10249",
		"--conntrack-max-per-core=0", "--proxy-mode=nftables", "--kubeconfig=/k"} {
		found := false
		for _, a := range args {
			found = found || a == want
		}
		if !found {
			t.Errorf("missing %s in %q", want, args)
		}
	}
	if !strings.HasPrefix(kubeProxyMetrics, "http://127.0.0.1:10249/") {
		t.Errorf("metrics scraped at %s, not where kube-proxy serves them", kubeProxyMetrics)
	}
}
