package iptables

import (
	"context"
	"fmt"
	"testing"

	"github.com/nodeagent/nodeagent/proxy"
	"github.com/nodeagent/nodeagent/proxy/proxytest"
)

// bigSnapshot: n services with a node port each, 3 endpoints each; the
// first service's last endpoint is moved when moved is set.
func bigSnapshot(n int, moved bool) *proxy.Snapshot {
	b := proxytest.New(nodeIP)
	for i := range n {
		name := b.Service(fmt.Sprintf("ns%d", i%50), fmt.Sprintf("svc%d", i), fmt.Sprintf("10.96.%d.%d", i/250, i%250+1), 80,
			proxytest.NodePort(int32(30000+i%2768)))
		last := 3
		if moved && i == 0 {
			last = 200
		}
		b.Endpoints(name, proxytest.Ready(fmt.Sprintf("10.244.%d.%d", i/250, i%250+1), 8080),
			proxytest.Ready(fmt.Sprintf("10.245.%d.%d", i/250, i%250+1), 8080),
			proxytest.Ready(fmt.Sprintf("10.246.%d.%d", i/250, last), 8080))
	}
	return b.Snapshot()
}

// countingRunner accepts everything and adds up the inputs' sizes (a
// large sync has several).
type countingRunner struct{ bytes int }

func (r *countingRunner) Restore(_ context.Context, in []byte) error   { r.bytes += len(in); return nil }
func (r *countingRunner) Save(context.Context, string) ([]byte, error) { return nil, nil }
func (r *countingRunner) EnsureRule(context.Context, string, string, ...string) (bool, error) {
	return true, nil
}
func (r *countingRunner) ListChains(context.Context, string) ([]string, error) { return nil, nil }
func (r *countingRunner) ListRules(context.Context, string, string) ([]string, error) {
	return nil, nil
}
func (r *countingRunner) DeleteChains(context.Context, string, []string) error { return nil }

func BenchmarkBuildRules10k(b *testing.B) {
	s := bigSnapshot(10000, false)
	cfg := proxy.DefaultConfig()
	b.ReportAllocs()
	for b.Loop() {
		buildRules(cfg, s, 0)
	}
}

// BenchmarkSync10k is the Go-side cost of a sync at 10,000 services x 3
// endpoints: compute, diff, write the input (the kernel not included).
func BenchmarkSync10k(b *testing.B) {
	for _, bc := range []struct {
		name string
		full bool
	}{{"full", true}, {"partial", false}} {
		b.Run(bc.name, func(b *testing.B) {
			s := [2]*proxy.Snapshot{bigSnapshot(10000, false), bigSnapshot(10000, true)}
			r := &countingRunner{}
			p := New(proxy.DefaultConfig(), r, discardLogger)
			if err := p.Sync(context.Background(), s[0], true); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				r.bytes = 0
				if err := p.Sync(context.Background(), s[i%2], bc.full); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(r.bytes), "input-bytes")
		})
	}
}

// BenchmarkFakeFullSync10k includes the fake's parsing of the input.
func BenchmarkFakeFullSync10k(b *testing.B) {
	s := bigSnapshot(10000, false)
	for b.Loop() {
		p := New(proxy.DefaultConfig(), NewFake(), discardLogger)
		if err := p.Sync(context.Background(), s, true); err != nil {
			b.Fatal(err)
		}
	}
}
