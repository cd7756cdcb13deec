//go:build linux && e2e

package e2e

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/nodeagent/nodeagent/proxy"
	"github.com/nodeagent/nodeagent/proxy/iptables"
)

// TestProxyIptablesLargeSyncAndEdits drives the real iptables-restore in a
// lab node through what only a large rule set does: a full sync of 300
// Services (1,500 chains, so several restores of at most 1,000), a new
// Service and a removed one, partial syncs that insert and delete their
// rules in KUBE-SERVICES and KUBE-NODEPORTS instead of writing them whole.
// iptables-save must show what a fake driven the same way holds, with the
// jump to KUBE-NODEPORTS last.
func TestProxyIptablesLargeSyncAndEdits(t *testing.T) {
	ctx := context.Background()
	_, run, p, fake, pf := realAndFake(t)

	tr := proxy.NewTracker("node-a")
	for i := range 300 {
		trackService(tr, i)
	}
	sync := func(full bool) {
		t.Helper()
		s := tr.Snapshot()
		for _, b := range []proxy.Backend{p, pf} {
			if err := b.Sync(ctx, s, full); err != nil {
				t.Fatalf("sync: %v", err)
			}
		}
		for _, table := range []string{"nat", "filter"} {
			if got, want := savedChains(t, ctx, run, table), fakeChains(fake, table); !maps.Equal(got, want) {
				t.Fatalf("%s: iptables-save shows %d chains, the fake %d; they differ:\n%v\n%v", table, len(got), len(want), got, want)
			}
		}
		nat := save(t, ctx, run, "nat")
		var last string
		for _, l := range strings.Split(nat, "\n") {
			if strings.HasPrefix(l, "-A KUBE-SERVICES ") {
				last = l
			}
		}
		if !strings.HasSuffix(last, "-j KUBE-NODEPORTS") {
			t.Fatalf("KUBE-SERVICES's last rule is %q, want the jump to KUBE-NODEPORTS", last)
		}
	}
	sync(true)
	if n := len(fakeChains(fake, "nat")); n < 1500 {
		t.Fatalf("%d nat chains, want at least 1,500 (a sync cut into batches)", n)
	}
	trackService(tr, 300)
	sync(false)
	nat := save(t, ctx, run, "nat")
	if !strings.Contains(nat, "default/s300:http cluster IP") || !strings.Contains(nat, "--dport 30300 ") {
		t.Fatalf("the new Service's rules are not in KUBE-SERVICES and KUBE-NODEPORTS")
	}
	svc := trackedService(7)
	tr.DeleteService(svc)
	sync(false)
	if nat := save(t, ctx, run, "nat"); strings.Contains(nat, "default/s7:http") {
		t.Fatalf("the removed Service's rules are still there")
	}
	sync(true)
}

// trackService gives the tracker Service i: a node port and 3 endpoints.
func trackService(tr *proxy.Tracker, i int) {
	svc := trackedService(i)
	tr.UpdateService(svc)
	es := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: svc.Name + "-x",
		Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080), Protocol: ptr.To(corev1.ProtocolTCP)}}}
	for j := range 3 {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{fmt.Sprintf("10.%d.%d.%d", 244+j, i/250, i%250+1)},
			NodeName: ptr.To("node-b")})
	}
	tr.UpdateSlice(es)
}

// trackedService is Service i of trackService.
func trackedService(i int) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("s%d", i)},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, ClusterIP: fmt.Sprintf("10.96.%d.%d", i/250, i%250+1),
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, NodePort: int32(30000 + i)}}}}
}

// savedChains counts the rules of each KUBE- chain iptables-save shows.
func savedChains(t *testing.T, ctx context.Context, run iptables.Runner, table string) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, l := range strings.Split(save(t, ctx, run, table), "\n") {
		if name, _, ok := strings.Cut(strings.TrimPrefix(l, ":"), " "); ok && strings.HasPrefix(l, ":KUBE-") {
			got[name] += 0
		} else if chain, _, ok := strings.Cut(strings.TrimPrefix(l, "-A "), " "); ok && strings.HasPrefix(l, "-A KUBE-") {
			got[chain]++
		}
	}
	return got
}

// fakeChains counts the rules of each KUBE- chain of the fake.
func fakeChains(f *iptables.Fake, table string) map[string]int {
	out := map[string]int{}
	for _, c := range f.Chains(table) {
		if strings.HasPrefix(c, "KUBE-") {
			out[c] = len(f.Rules(table, c))
		}
	}
	return out
}
