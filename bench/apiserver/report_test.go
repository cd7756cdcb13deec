package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/bench/internal/stats"
)

func TestRowWinner(t *testing.T) {
	for _, tc := range []struct {
		r    row
		want string
	}{
		{row{ours: 1, kube: 2}, "ours"},
		{row{ours: 3, kube: 2}, "kube"},
		{row{ours: 2, kube: 2}, "tie"},
		{row{ours: 3, kube: 2, higherBetter: true}, "ours"},
		{row{ours: 1, kube: 2, higherBetter: true}, "kube"},
	} {
		if got := tc.r.winner("ours", "kube"); got != tc.want {
			t.Errorf("%+v: got %s, want %s", tc.r, got, tc.want)
		}
	}
}

func summary(p50, p99 time.Duration, n int, wall time.Duration) stats.Summary {
	return stats.Summary{N: n, P50: p50, P99: p99, Max: p99, Wall: wall}
}

func TestReportSideBySide(t *testing.T) {
	cfg := defaultConfig()
	ours := targetResults{name: "nodeagent", rssIdle: rssWindow{median: 50 << 20}, rssStored: rssWindow{median: 200 << 20}, rssListed: 220 << 20,
		create16: summary(time.Millisecond, 2*time.Millisecond, 2000, time.Second),
		listJSON: summary(30*time.Millisecond, 40*time.Millisecond, 10, time.Second),
		watch:    summary(time.Millisecond, 9*time.Millisecond, 20000, time.Second), podJSON: []byte("{}")}
	kube := targetResults{name: "kube-apiserver+etcd", rssIdle: rssWindow{median: 300 << 20}, rssListed: 900 << 20,
		rssStored: summarizeRSS([][]procRSS{{{"kube-apiserver", 600 << 20}, {"etcd", 200 << 20}}}),
		versions:  "Kubernetes v1.37.2 on etcd Version: 3.7.0",
		create16:  summary(time.Millisecond, 3*time.Millisecond, 2000, 2*time.Second),
		listJSON:  summary(20*time.Millisecond, 50*time.Millisecond, 10, time.Second),
		watch:     summary(time.Millisecond, 5*time.Millisecond, 20000, time.Second), podJSON: []byte("{ }")}
	var b bytes.Buffer
	report(&b, cfg, &results{ours: ours, kube: &kube}, time.Now())
	out := b.String()
	for _, want := range []string{
		`create 16 clients\s+2000/s\s+1000/s\s+nodeagent`,
		`list 5000 json p50\s+30.00ms\s+20.00ms\s+kube-apiserver\+etcd`,
		`list 5000 json p99\s+40.00ms\s+50.00ms\s+nodeagent`,
		`list node's 100 \(fieldSel\) p50`,
		`list 1 % = 50 \(labelSel\) p99`,
		`watch 100 watchers p99\s+9.00ms\s+5.00ms\s+kube-apiserver\+etcd`,
		`watch 100 watchers p50\s+1.00ms\s+1.00ms\s+tie`,
		`rss 10000 pods \(median\)\s+200.0 MiB\s+800.0 MiB\s+nodeagent`,
		`server RSS / \(kube-apiserver \+ etcd\) at 10000 pods: 25 % .*kube-apiserver 600.0 MiB \+ etcd 200.0 MiB`,
		`anchor: Kubernetes v1.37.2 on etcd Version: 3.7.0`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
}

func TestReportSaysWhyTheAnchorIsMissing(t *testing.T) {
	var b bytes.Buffer
	report(&b, defaultConfig(), &results{kubeSkipped: "no --kube-apiserver/--etcd given"}, time.Now())
	out := b.String()
	if !strings.Contains(out, "anchor: kube-apiserver not measured: no --kube-apiserver/--etcd given") {
		t.Errorf("no reason for the missing anchor:\n%s", out)
	}
	if strings.Contains(out, "side by side") {
		t.Errorf("a side-by-side table without the anchor:\n%s", out)
	}
}

func TestPercent(t *testing.T) {
	if got := percent(1, 4); got != "25 %" {
		t.Errorf("percent(1, 4) = %q", got)
	}
	if got := percent(1, 0); got != "n/a" {
		t.Errorf("percent(1, 0) = %q", got)
	}
}
