package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestReportPutsKubeProxyBesideUs(t *testing.T) {
	rs := runResults{kubeProxy: "Kubernetes v1.37.2", rows: []result{
		{mode: "nftables", services: 1000, full: 100 * time.Millisecond, addOne: 2 * time.Millisecond, endpoint: 4 * time.Millisecond, cleanup: 50 * time.Millisecond,
			kp:     &kpResult{full: time.Second, addOne: 30 * time.Millisecond, endpoint: 40 * time.Millisecond, cleanup: 200 * time.Millisecond, rss: 60 << 20},
			daemon: &kpResult{full: 125 * time.Millisecond, addOne: 3 * time.Millisecond, endpoint: 5 * time.Millisecond, cleanup: 40 * time.Millisecond, rss: 30 << 20}},
		{mode: "iptables", services: 1000, full: 200 * time.Millisecond, addOne: 10 * time.Millisecond, endpoint: 10 * time.Millisecond, cleanup: 100 * time.Millisecond,
			kp: &kpResult{full: 12 * time.Second, addOne: 50 * time.Millisecond, endpoint: 25 * time.Millisecond, cleanup: 500 * time.Millisecond, rss: 70 << 20}},
	}}
	var out bytes.Buffer
	report(&out, config{Modes: []string{"iptables", "nftables"}, Changes: 3}, rs)
	got := out.String()
	for _, want := range []string{
		"kube-proxy (Kubernetes v1.37.2) beside nodeagent",
		// No daemon: the ratio is over the in-process figure.
		"iptables      1000  full sync              200ms            -        12.0s      60.0x",
		"iptables      1000  +1 service              10ms            -         50ms       5.0x",
		"iptables      1000  1 endpoint chg          10ms            -         25ms       2.5x",
		"iptables      1000  RSS                        -            -     70.0 MiB",
		// With the daemon: over the daemon's.
		"nftables      1000  full sync              100ms        125ms       1000ms       8.0x",
		"nftables      1000  +1 service             2.0ms        3.0ms         30ms      10.0x",
		"nftables      1000  cleanup                 50ms         40ms        200ms       5.0x",
		"nftables      1000  RSS                        -     30.0 MiB     60.0 MiB       2.0x",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	// Rows by mode as given, iptables first, though measured the other
	// way round.
	if strings.Index(got, "iptables      1000  full") > strings.Index(got, "nftables      1000  full") {
		t.Errorf("iptables not first:\n%s", got)
	}
	if strings.Contains(got, "not measured: no --kube-proxy") || strings.Contains(got, "2026-11-22") {
		t.Errorf("quotes old figures or says kube-proxy was not measured:\n%s", got)
	}
}

func TestReportSaysWhyKubeProxyWasNotMeasured(t *testing.T) {
	var out bytes.Buffer
	why := "no --kube-proxy/--kube-apiserver/--etcd given (hack/bench.sh builds them from the Go module proxy)"
	report(&out, config{Modes: []string{"nftables"}, Changes: 3}, runResults{kubeSkipped: why,
		rows: []result{{mode: "nftables", services: 100, full: time.Millisecond}}})
	if got := out.String(); !strings.Contains(got, "kube-proxy not measured: "+why) || strings.Contains(got, "kp/ours") {
		t.Errorf("got:\n%s", got)
	}
}

func TestIPVSNote(t *testing.T) {
	if got := ipvsNote(false); !strings.Contains(got, "this kernel has no IPVS") {
		t.Errorf("without IPVS: %q", got)
	}
	if got := ipvsNote(true); strings.Contains(got, "no IPVS") {
		t.Errorf("with IPVS: %q", got)
	}
}

func TestRatioAndDur(t *testing.T) {
	if got := ratio(0, time.Second); got != "-" {
		t.Errorf("ratio over nothing: %q", got)
	}
	for d, want := range map[time.Duration]string{1500 * time.Microsecond: "1.5ms", 15 * time.Millisecond: "15ms", 64500 * time.Millisecond: "64.5s"} {
		if got := dur(d); got != want {
			t.Errorf("dur(%s) = %q, want %q", d, got, want)
		}
	}
}
