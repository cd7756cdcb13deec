package ipvs

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/nodeagent/nodeagent/proxy"
	pt "github.com/nodeagent/nodeagent/proxy/proxytest"
)

type rig struct {
	b     *Backend
	h     *FakeHandle
	l     *FakeLinks
	r     *FakeRules
	clock *testingclock.FakeClock
}

func newRig(t *testing.T, edit ...func(*Config)) *rig {
	t.Helper()
	cfg := DefaultConfig()
	for _, e := range edit {
		e(&cfg)
	}
	clk := testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	b, h, l, r, err := NewFake(cfg, clk)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{b: b, h: h, l: l, r: r, clock: clk}
}

// sets is the backend's FakeSets.
func (r *rig) sets() *FakeSets { return r.b.d.Sets.(*FakeSets) }

func (r *rig) sync(t *testing.T, s *proxy.Snapshot, full bool) {
	t.Helper()
	if err := r.b.Sync(context.Background(), s, full); err != nil {
		t.Fatalf("Sync: %v", err)
	}
}

// web is ns/web at 10.96.0.10:80 with node port 30080 on two node IPs.
func web(eps ...proxy.Endpoint) *proxy.Snapshot {
	b := pt.New("192.168.50.2", "192.168.60.2")
	n := b.Service("ns", "web", "10.96.0.10", 80, pt.NodePort(30080))
	b.Endpoints(n, eps...)
	return b.Snapshot()
}

func TestSyncProgramsServicesLinkAndRules(t *testing.T) {
	r := newRig(t)
	r.sync(t, web(pt.Ready("10.244.1.3", 8080), pt.Ready("10.244.2.4", 8080)), true)
	wantDump := `10.96.0.10:80/TCP rr
  -> 10.244.1.3:8080 w=1 active=0
  -> 10.244.2.4:8080 w=1 active=0
192.168.50.2:30080/TCP rr
  -> 10.244.1.3:8080 w=1 active=0
  -> 10.244.2.4:8080 w=1 active=0
192.168.60.2:30080/TCP rr
  -> 10.244.1.3:8080 w=1 active=0
  -> 10.244.2.4:8080 w=1 active=0
`
	if got := r.h.Dump(); got != wantDump {
		t.Errorf("IPVS table:\n%s\nwant:\n%s", got, wantDump)
	}
	if addrs, _ := r.l.ListAddrs(); !r.l.Exist || len(addrs) != 1 || addrs[0].String() != "10.96.0.10" {
		t.Errorf("link exists=%v addrs=%v, want only the cluster IP", r.l.Exist, addrs)
	}
	save := r.r.Save()
	for _, want := range []string{
		"-A POSTROUTING -m comment --comment \"nodeagent ipvs\" -j NODEAGENT-IPVS-POSTROUTING",
		"-A NODEAGENT-IPVS-POSTROUTING -m ipvs --ipvs --vdir ORIGINAL --vmethod MASQ ! -s 10.244.0.0/16",
		"-A FORWARD -m comment --comment \"nodeagent ipvs\" -j NODEAGENT-IPVS-FORWARD",
		"-A NODEAGENT-IPVS-FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT",
	} {
		if !strings.Contains(save, want) {
			t.Errorf("rules lack %q:\n%s", want, save)
		}
	}
}

func TestCompanionRulesAreFixed(t *testing.T) {
	one, many := newRig(t), newRig(t)
	one.sync(t, web(pt.Ready("10.244.1.3", 80)), true)
	b := pt.New("192.168.50.2")
	for i := range 50 {
		n := b.Service("ns", fmt.Sprintf("svc%d", i), fmt.Sprintf("10.96.1.%d", i+1), 80, pt.NodePort(int32(30000+i)))
		b.Endpoints(n, pt.Ready("10.244.1.3", 80))
	}
	many.sync(t, b.Snapshot(), true)
	if one.r.Save() != many.r.Save() {
		t.Errorf("rules depend on the services:\n%s\nvs\n%s", one.r.Save(), many.r.Save())
	}
	if got := len(many.h.services); got != 100 {
		t.Errorf("%d virtual servers, want 100", got)
	}
}

func TestAffinityAndSchedulerChangesUpdateInPlace(t *testing.T) {
	r := newRig(t, func(c *Config) { c.Scheduler = "lc" })
	b := pt.New("192.168.50.2")
	n := b.Service("ns", "sticky", "10.96.0.12", 443)
	b.Endpoints(n, pt.Ready("10.244.1.3", 443))
	r.sync(t, b.Snapshot(), true)
	if got := r.h.Dump(); !strings.HasPrefix(got, "10.96.0.12:443/TCP lc\n") {
		t.Fatalf("table:\n%s\nwant scheduler lc", got)
	}
	r.h.ResetOps()
	b.Snapshot().Services[n].AffinityTimeout = 600
	r.sync(t, b.Snapshot(), false)
	wantOps := []string{"update-service 10.96.0.12:443/TCP lc persistent 600"}
	if !slices.Equal(r.h.Ops, wantOps) {
		t.Errorf("ops = %q, want %q", r.h.Ops, wantOps)
	}
}

func TestUnknownScheduler(t *testing.T) {
	if _, _, _, _, err := NewFake(Config{Scheduler: "fastest"}, testingclock.NewFakeClock(time.Now())); err == nil {
		t.Fatal("New accepted scheduler fastest")
	}
}

func TestEndpointChangeTouchesOnlyChangedRealServers(t *testing.T) {
	r := newRig(t)
	r.sync(t, web(pt.Ready("10.244.1.3", 80), pt.Ready("10.244.2.4", 80)), true)
	r.h.ResetOps()
	r.l.Ops = nil
	r.sync(t, web(pt.Ready("10.244.1.3", 80), pt.Ready("10.244.2.4", 80), pt.Ready("10.244.3.5", 80)), false)
	want := []string{
		"new-dest 10.96.0.10:80/TCP 10.244.3.5:80 w=1",
		"new-dest 192.168.50.2:30080/TCP 10.244.3.5:80 w=1",
		"new-dest 192.168.60.2:30080/TCP 10.244.3.5:80 w=1",
	}
	if !slices.Equal(r.h.Ops, want) {
		t.Errorf("ops = %q\nwant %q", r.h.Ops, want)
	}
	if r.h.Reads != 0 || len(r.l.Ops) != 0 {
		t.Errorf("a partial sync read the handle %d times and changed the link %q", r.h.Reads, r.l.Ops)
	}
	r.h.ResetOps()
	r.sync(t, web(pt.Ready("10.244.1.3", 80), pt.Ready("10.244.2.4", 80), pt.Ready("10.244.3.5", 80)), false)
	if len(r.h.Ops) != 0 {
		t.Errorf("an unchanged snapshot wrote %q", r.h.Ops)
	}
}

func TestGracefulRemovalWaitsForConnections(t *testing.T) {
	r := newRig(t)
	k := tcp("10.96.0.10", 80)
	gone := aps("10.244.2.4:80")[0]
	r.sync(t, web(pt.Ready("10.244.1.3", 80), pt.Ready("10.244.2.4", 80)), true)
	r.h.SetConns(k, gone, 3, 1)
	r.h.ResetOps()
	r.sync(t, web(pt.Ready("10.244.1.3", 80)), false)
	// weight 0 first everywhere; the node-port copies have no connections
	// and go at once, the cluster IP's copy waits.
	want := []string{
		"update-dest 10.96.0.10:80/TCP 10.244.2.4:80 w=0",
		"update-dest 192.168.50.2:30080/TCP 10.244.2.4:80 w=0",
		"update-dest 192.168.60.2:30080/TCP 10.244.2.4:80 w=0",
	}
	if !slices.Equal(r.h.Ops[:3], want) {
		t.Errorf("first ops = %q\nwant %q", r.h.Ops, want)
	}
	if got := r.h.Targets(k); !slices.Equal(got, aps("10.244.1.3:80")) {
		t.Errorf("new connections to %s may reach %v, want only 10.244.1.3:80", k, got)
	}
	if !strings.Contains(r.h.Dump(), "-> 10.244.2.4:80 w=0 active=3") || r.b.Draining() != 1 {
		t.Fatalf("draining server missing or not at weight 0 (draining=%d):\n%s", r.b.Draining(), r.h.Dump())
	}
	r.clock.Step(5 * time.Second)
	r.sync(t, web(pt.Ready("10.244.1.3", 80)), false)
	if !strings.Contains(r.h.Dump(), "10.244.2.4:80 w=0") {
		t.Fatal("deleted while connections were still active")
	}
	r.h.SetConns(k, gone, 0, 2)
	r.sync(t, web(pt.Ready("10.244.1.3", 80)), false)
	if strings.Contains(r.h.Dump(), "10.244.2.4") || r.b.Draining() != 0 {
		t.Errorf("not deleted once its connections drained:\n%s", r.h.Dump())
	}
}

func TestGracefulRemovalTimesOut(t *testing.T) {
	r := newRig(t, func(c *Config) { c.GracePeriod = 30 * time.Second })
	k := tcp("10.96.0.10", 80)
	r.sync(t, web(pt.Ready("10.244.1.3", 80), pt.Ready("10.244.2.4", 80)), true)
	r.h.SetConns(k, aps("10.244.2.4:80")[0], 7, 0)
	r.sync(t, web(pt.Ready("10.244.1.3", 80)), false)
	r.clock.Step(29 * time.Second)
	r.sync(t, web(pt.Ready("10.244.1.3", 80)), false)
	if !strings.Contains(r.h.Dump(), "10.244.2.4") {
		t.Fatal("deleted before the grace period was over")
	}
	r.clock.Step(time.Second)
	r.sync(t, web(pt.Ready("10.244.1.3", 80)), false)
	if strings.Contains(r.h.Dump(), "10.244.2.4") {
		t.Errorf("still there after the grace period:\n%s", r.h.Dump())
	}
}

func TestDrainingServerComesBack(t *testing.T) {
	r := newRig(t)
	k := tcp("10.96.0.10", 80)
	r.sync(t, web(pt.Ready("10.244.1.3", 80), pt.Ready("10.244.2.4", 80)), true)
	r.h.SetConns(k, aps("10.244.2.4:80")[0], 1, 0)
	r.sync(t, web(pt.Ready("10.244.1.3", 80)), false)
	r.h.ResetOps()
	r.sync(t, web(pt.Ready("10.244.1.3", 80), pt.Ready("10.244.2.4", 80)), false)
	// the cluster IP's copy was draining and gets its weight back; the
	// node-port copies had no connections, were deleted, and come anew.
	want := []string{
		"update-dest 10.96.0.10:80/TCP 10.244.2.4:80 w=1",
		"new-dest 192.168.50.2:30080/TCP 10.244.2.4:80 w=1",
		"new-dest 192.168.60.2:30080/TCP 10.244.2.4:80 w=1",
	}
	if !slices.Equal(r.h.Ops, want) {
		t.Errorf("ops = %q\nwant %q", r.h.Ops, want)
	}
	if r.b.Draining() != 0 {
		t.Errorf("still draining %d", r.b.Draining())
	}
}

func TestRemovedServiceIsDeletedAtOnce(t *testing.T) {
	r := newRig(t)
	r.sync(t, web(pt.Ready("10.244.1.3", 80)), true)
	r.h.SetConns(tcp("10.96.0.10", 80), aps("10.244.1.3:80")[0], 4, 0)
	r.sync(t, pt.New("192.168.50.2", "192.168.60.2").Snapshot(), false)
	if d := r.h.Dump(); d != "" {
		t.Errorf("table not empty:\n%s", d)
	}
	if addrs, _ := r.l.ListAddrs(); len(addrs) != 0 || r.b.Draining() != 0 {
		t.Errorf("addresses left %v, draining %d", addrs, r.b.Draining())
	}
}

func TestFullSyncRepairsDrift(t *testing.T) {
	r := newRig(t)
	s := web(pt.Ready("10.244.1.3", 80))
	r.sync(t, s, true)
	k := tcp("10.96.0.10", 80)
	_ = r.h.DelDestination(k, aps("10.244.1.3:80")[0])
	_ = r.h.NewService(VirtualServer{ServiceKey: tcp("10.96.9.9", 80), Scheduler: "rr"})
	_ = r.l.DelAddr(k.Addr)
	r.sync(t, s, false)
	if strings.Contains(r.h.Dump(), "10.96.9.9") == false {
		t.Fatal("a partial sync read the kernel back (the stray service is gone)")
	}
	r.h.ResetOps()
	inKernel := len(r.h.services)
	r.sync(t, s, true)
	want := newRig(t)
	want.sync(t, s, true)
	if r.h.Dump() != want.h.Dump() {
		t.Errorf("after a full sync:\n%s\nwant:\n%s", r.h.Dump(), want.h.Dump())
	}
	if addrs, _ := r.l.ListAddrs(); len(addrs) != 1 {
		t.Errorf("addresses %v, want the cluster IP back", addrs)
	}
	if r.h.Reads != 1+inKernel {
		t.Errorf("full sync made %d reads, want one list of services and one per service", r.h.Reads)
	}
}

func TestFailedSyncRereadsNextTime(t *testing.T) {
	r := newRig(t)
	r.sync(t, web(pt.Ready("10.244.1.3", 80)), true)
	r.h.Err = errors.New("netlink: boom")
	if err := r.b.Sync(context.Background(), web(pt.Ready("10.244.2.4", 80)), false); err == nil {
		t.Fatal("Sync hid the handle's error")
	}
	r.h.Err = nil
	r.h.ResetOps()
	r.sync(t, web(pt.Ready("10.244.2.4", 80)), false)
	if r.h.Reads == 0 {
		t.Error("the sync after a failure did not re-read the handle")
	}
	if !strings.Contains(r.h.Dump(), "10.244.2.4:80 w=1") {
		t.Errorf("not repaired:\n%s", r.h.Dump())
	}
}

func TestCleanupLeavesFakesEmpty(t *testing.T) {
	r := newRig(t)
	b := pt.New("192.168.50.2")
	n := b.Service("ns", "ext", "10.96.0.13", 80, pt.ExternalIPs("203.0.113.7"), pt.NodePort(30001))
	b.Endpoints(n, pt.Ready("10.244.1.3", 80))
	r.sync(t, b.Snapshot(), true)
	_ = r.h.NewService(VirtualServer{ServiceKey: tcp("10.96.9.9", 80), Scheduler: "rr"}) // left by an earlier run
	for range 2 {
		if err := r.b.Cleanup(context.Background()); err != nil {
			t.Fatalf("Cleanup: %v", err)
		}
		if d := r.h.Dump(); d != "" {
			t.Errorf("IPVS table not empty:\n%s", d)
		}
		if r.l.Exist || len(r.l.Addrs) != 0 {
			t.Errorf("link left: exists=%v addrs=%v", r.l.Exist, r.l.Addrs)
		}
		if c := r.r.OwnChains(); len(c) != 0 || strings.Contains(r.r.Save(), ChainPrefix) {
			t.Errorf("chains left %v:\n%s", c, r.r.Save())
		}
		if names := r.sets().Names(); len(names) != 0 {
			t.Errorf("ipsets left: %v", names)
		}
	}
	r.sync(t, b.Snapshot(), false) // the next sync starts over
	if !strings.Contains(r.h.Dump(), "203.0.113.7:80/TCP") || !r.l.Exist {
		t.Errorf("sync after Cleanup did not reprogram:\n%s", r.h.Dump())
	}
}

func TestFullSyncOfUnchangedStateWritesNothing(t *testing.T) {
	r := newRig(t)
	s := web(pt.Ready("10.244.1.3", 80), pt.Ready("10.244.2.4", 80))
	r.sync(t, s, true)
	r.h.ResetOps()
	r.l.Ops = nil
	r.sync(t, s, true)
	if len(r.h.Ops) != 0 || len(r.l.Ops) != 0 {
		t.Errorf("full sync of an unchanged snapshot wrote %q and %q", r.h.Ops, r.l.Ops)
	}
}

// Hairpin: the ipset holds this node's endpoints (IP,proto:port,IP) of
// every service, so that only a pod reaching itself is masqueraded; the
// rule matches the set, not "pod CIDR to pod CIDR". A changed endpoint
// changes only its entry; a stale entry left in the kernel is removed by a
// full sync.
func TestHairpinIpsetHoldsLocalEndpoints(t *testing.T) {
	r := newRig(t)
	b := pt.New("192.168.50.2")
	web := b.Service("ns", "web", "10.96.0.10", 80)
	b.Endpoints(web, pt.Local("10.244.0.3", 8080), pt.Ready("10.244.1.4", 8080))
	dns := b.Service("ns", "dns", "10.96.0.53", 53, pt.UDP)
	b.Endpoints(dns, pt.Local("10.244.0.7", 5353))
	r.sync(t, b.Snapshot(), true)
	loopBack := SetSpec{LoopBackSet, LoopBackSetType}
	want := []Entry{
		{IP: netip.MustParseAddr("10.244.0.3"), Port: 8080, Protocol: corev1.ProtocolTCP},
		{IP: netip.MustParseAddr("10.244.0.7"), Port: 5353, Protocol: corev1.ProtocolUDP},
	}
	if got, err := r.sets().Entries(loopBack); err != nil || !slices.Equal(got, want) {
		t.Fatalf("ipset entries %v %v, want %v (the other node's endpoint is not one)", got, err, want)
	}
	save := r.r.Save()
	if !strings.Contains(save, "-m set --match-set NODEAGENT-IPVS-LOOP-BACK dst,dst,src") || strings.Contains(save, "-d 10.244.0.0/16") {
		t.Errorf("hairpin rule is not the set's:\n%s", save)
	}
	b.Snapshot().Endpoints[web] = []proxy.Endpoint{pt.Ready("10.244.1.4", 8080), pt.Local("10.244.0.9", 8080)}
	r.sync(t, b.Snapshot(), false)
	want[0].IP = netip.MustParseAddr("10.244.0.9")
	slices.SortFunc(want, compareEntries)
	if got, _ := r.sets().Entries(loopBack); !slices.Equal(got, want) {
		t.Fatalf("after the endpoint moved: %v, want %v", got, want)
	}
	stale := Entry{IP: netip.MustParseAddr("10.244.0.99"), Port: 1, Protocol: corev1.ProtocolTCP}
	r.sets().Add(loopBack, stale) // left by an earlier run
	r.sync(t, b.Snapshot(), true)
	if got, _ := r.sets().Entries(loopBack); !slices.Equal(got, want) {
		t.Errorf("a full sync kept %v: %v", stale, got)
	}
}
