package proxytest

import (
	"fmt"
	"maps"
	"math/rand/v2"

	"github.com/nodeagent/nodeagent/proxy"
)

// Changed names the service ports whose ServicePort or endpoints differ
// between a and b: what a tracker's Snapshot.Changed holds for b after a.
func Changed(a, b *proxy.Snapshot) map[proxy.ServicePortName]struct{} {
	out := map[proxy.ServicePortName]struct{}{}
	for _, s := range []*proxy.Snapshot{a, b} {
		for name := range s.Services {
			if a.Services[name] != b.Services[name] || fmt.Sprint(a.Endpoints[name]) != fmt.Sprint(b.Endpoints[name]) {
				out[name] = struct{}{}
			}
		}
	}
	return out
}

// Random is prev (nil: empty; the node's address nodeIP) with k of its 12
// Services "default/s<i>" made anew at random (node ports, affinity,
// Local policies, external IPs, endpoints here and elsewhere, none), or
// removed. prev is not changed.
func Random(rng *rand.Rand, prev *proxy.Snapshot, k int, nodeIP string) *proxy.Snapshot {
	out := New(nodeIP).Snapshot()
	if prev != nil {
		out.Services, out.Endpoints = maps.Clone(prev.Services), maps.Clone(prev.Endpoints)
	}
	for range k {
		i := rng.IntN(12)
		name := Name("default", fmt.Sprintf("s%d", i), "TCP")
		delete(out.Services, name)
		delete(out.Endpoints, name)
		if rng.IntN(4) == 0 {
			continue
		}
		b := New(nodeIP)
		n := b.Service("default", fmt.Sprintf("s%d", i), fmt.Sprintf("10.96.2.%d", i+1), 80, randomEdits(rng, i)...)
		seen := map[string]bool{}
		for j := range rng.IntN(4) {
			ip := fmt.Sprintf("10.244.%d.%d", i, j+rng.IntN(3))
			if seen[ip] {
				continue
			}
			seen[ip] = true
			if rng.IntN(2) == 0 {
				b.Endpoints(n, Local(ip, 8080))
			} else {
				b.Endpoints(n, Ready(ip, 8080))
			}
		}
		out.Services[name], out.Endpoints[name] = b.Snapshot().Services[n], b.Snapshot().Endpoints[n]
	}
	return out
}

// randomEdits are Service i's random options.
func randomEdits(rng *rand.Rand, i int) []func(*proxy.ServicePort) {
	var edits []func(*proxy.ServicePort)
	if rng.IntN(2) == 0 {
		edits = append(edits, NodePort(int32(30000+i)))
	}
	if rng.IntN(3) == 0 {
		edits = append(edits, Affinity(int32(60+rng.IntN(2))))
	}
	if rng.IntN(3) == 0 {
		edits = append(edits, ExternalLocal)
	}
	if rng.IntN(4) == 0 {
		edits = append(edits, ExternalIPs(fmt.Sprintf("192.0.2.%d", i+1)))
	}
	return edits
}
