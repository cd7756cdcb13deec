package clusterdns

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// fakeForwarder answers every forwarded question with one A record, or
// fails, and counts the calls.
type fakeForwarder struct {
	calls int
	err   error
}

func (f *fakeForwarder) Forward(_ context.Context, req *dns.Msg, _ string) (*dns.Msg, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	m := new(dns.Msg).SetReply(req)
	rr, _ := dns.NewRR(req.Question[0].Name + " 60 IN A 192.0.2.53")
	m.Answer = []dns.RR{rr}
	return m, nil
}

func service(ns, name, clusterIP string, ports ...corev1.ServicePort) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ServiceSpec{ClusterIP: clusterIP, Ports: ports}}
	if clusterIP != corev1.ClusterIPNone && clusterIP != "" {
		s.Spec.ClusterIPs = []string{clusterIP}
	}
	return s
}

func port(name string, proto corev1.Protocol, n int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Protocol: proto, Port: n}
}

func slice(ns, name, svc string, ports []discoveryv1.EndpointPort, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4, Ports: ports, Endpoints: eps}
}

func ep(ip string, ready bool, hostname string) discoveryv1.Endpoint {
	e := discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready)}}
	if hostname != "" {
		e.Hostname = ptr.To(hostname)
	}
	return e
}

func epPort(name string, n int32) discoveryv1.EndpointPort {
	return discoveryv1.EndpointPort{Name: ptr.To(name), Port: ptr.To(n), Protocol: ptr.To(corev1.ProtocolTCP)}
}

// testServer is a server over a fake API with these objects, synced.
func testServer(t *testing.T, fwd Forwarder, objs ...runtime.Object) *Server {
	t.Helper()
	client := fake.NewSimpleClientset(objs...)
	factory := informers.NewSharedInformerFactory(client, 0)
	records, err := NewRecords(factory)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), records.HasSynced) {
		t.Fatal("caches not synced")
	}
	s, err := New(Config{Allowed: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16"), netip.MustParsePrefix("127.0.0.0/8")},
		ClusterRanges: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12"), netip.MustParsePrefix("10.244.0.0/16")}},
		records, fwd, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fixtures() []runtime.Object {
	return []runtime.Object{
		service("default", "web", "10.96.0.20", port("http", corev1.ProtocolTCP, 80), port("", corev1.ProtocolUDP, 53)),
		slice("default", "web-abc", "web", []discoveryv1.EndpointPort{epPort("http", 8080)}, ep("10.244.0.5", true, "")),
		service("default", "db", corev1.ClusterIPNone, port("pg", corev1.ProtocolTCP, 5432)),
		slice("default", "db-abc", "db", []discoveryv1.EndpointPort{epPort("pg", 15432)},
			ep("10.244.0.7", true, "db-0"), ep("10.244.0.8", true, ""), ep("10.244.0.9", false, "db-2")),
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "ext"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "example.com"}},
	}
}

var podClient = &net.UDPAddr{IP: net.ParseIP("10.244.0.3"), Port: 40000}

func ask(s *Server, name string, qtype uint16) *dns.Msg {
	return s.respond(podClient, "udp", new(dns.Msg).SetQuestion(name, qtype))
}

// rrs is the answer section's data, one string per record.
func rrs(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		f := strings.Fields(rr.String())
		out = append(out, f[3]+" "+strings.Join(f[4:], " "))
	}
	return out
}

func TestClusterNames(t *testing.T) {
	s := testServer(t, &fakeForwarder{}, fixtures()...)
	cases := []struct {
		name  string
		qtype uint16
		rcode int
		want  []string
	}{
		{"web.default.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, []string{"A 10.96.0.20"}},
		{"WEB.Default.SVC.cluster.local.", dns.TypeA, dns.RcodeSuccess, []string{"A 10.96.0.20"}},
		{"web.default.svc.cluster.local.", dns.TypeAAAA, dns.RcodeSuccess, nil},
		{"web.default.svc.cluster.local.", dns.TypeTXT, dns.RcodeSuccess, nil},
		{"nosuch.default.svc.cluster.local.", dns.TypeA, dns.RcodeNameError, nil},
		{"web.other.svc.cluster.local.", dns.TypeA, dns.RcodeNameError, nil},
		{"db.default.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, []string{"A 10.244.0.7", "A 10.244.0.8"}},
		{"db-0.db.default.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, []string{"A 10.244.0.7"}},
		{"10-244-0-8.db.default.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, []string{"A 10.244.0.8"}},
		{"db-2.db.default.svc.cluster.local.", dns.TypeA, dns.RcodeNameError, nil},
		{"x.web.default.svc.cluster.local.", dns.TypeA, dns.RcodeNameError, nil},
		{"_http._tcp.web.default.svc.cluster.local.", dns.TypeSRV, dns.RcodeSuccess, []string{"SRV 0 100 80 web.default.svc.cluster.local."}},
		{"_http._udp.web.default.svc.cluster.local.", dns.TypeSRV, dns.RcodeNameError, nil},
		{"_nope._tcp.web.default.svc.cluster.local.", dns.TypeSRV, dns.RcodeNameError, nil},
		{"web.default.svc.cluster.local.", dns.TypeSRV, dns.RcodeSuccess, []string{"SRV 0 100 80 web.default.svc.cluster.local."}},
		{"_pg._tcp.db.default.svc.cluster.local.", dns.TypeSRV, dns.RcodeSuccess, []string{
			"SRV 0 50 15432 db-0.db.default.svc.cluster.local.", "SRV 0 50 15432 10-244-0-8.db.default.svc.cluster.local."}},
		{"ext.default.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, []string{"CNAME example.com."}},
		{"10-244-0-9.default.pod.cluster.local.", dns.TypeA, dns.RcodeSuccess, []string{"A 10.244.0.9"}},
		{"10-244-0.default.pod.cluster.local.", dns.TypeA, dns.RcodeNameError, nil},
		{"cluster.local.", dns.TypeSOA, dns.RcodeSuccess, []string{"SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5"}},
		{"svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, nil},
		{"20.0.96.10.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, []string{"PTR web.default.svc.cluster.local."}},
		{"7.0.244.10.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, []string{"PTR db-0.db.default.svc.cluster.local."}},
		{"5.0.244.10.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError, nil}, // a ClusterIP Service's endpoint
		{"99.0.96.10.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError, nil},
	}
	for _, c := range cases {
		m := ask(s, c.name, c.qtype)
		got := rrs(m)
		if m.Rcode != c.rcode || strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s %s: %s %q, want %s %q", c.name, dns.TypeToString[c.qtype], dns.RcodeToString[m.Rcode], got, dns.RcodeToString[c.rcode], c.want)
		}
		if !m.Authoritative {
			t.Errorf("%s: not authoritative", c.name)
		}
		if len(m.Answer) == 0 && (len(m.Ns) != 1 || m.Ns[0].Header().Rrtype != dns.TypeSOA) {
			t.Errorf("%s: no answer and no SOA in authority: %v", c.name, m.Ns)
		}
	}
}

func TestSRVCarriesTheTargetsAddresses(t *testing.T) {
	s := testServer(t, &fakeForwarder{}, fixtures()...)
	m := ask(s, "_pg._tcp.db.default.svc.cluster.local.", dns.TypeSRV)
	var extra []string
	for _, rr := range m.Extra {
		extra = append(extra, rr.String())
	}
	if len(extra) != 2 || !strings.Contains(extra[0], "db-0.db.default.svc.cluster.local.\t5\tIN\tA\t10.244.0.7") {
		t.Fatalf("extra %q", extra)
	}
}

func TestPublishNotReadyAddresses(t *testing.T) {
	objs := fixtures()
	objs[2].(*corev1.Service).Spec.PublishNotReadyAddresses = true
	s := testServer(t, &fakeForwarder{}, objs...)
	if got := rrs(ask(s, "db.default.svc.cluster.local.", dns.TypeA)); len(got) != 3 {
		t.Fatalf("got %q, want the not-ready endpoint too", got)
	}
	if got := rrs(ask(s, "db-2.db.default.svc.cluster.local.", dns.TypeA)); len(got) != 1 {
		t.Fatalf("db-2: %q", got)
	}
}

func TestOtherNamesAreForwarded(t *testing.T) {
	fwd := &fakeForwarder{}
	s := testServer(t, fwd, fixtures()...)
	m := ask(s, "example.org.", dns.TypeA)
	if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 || fwd.calls != 1 || m.Authoritative {
		t.Fatalf("forwarded: %v calls=%d", m, fwd.calls)
	}
	// A reverse name outside the cluster's ranges goes upstream too.
	if m := ask(s, "1.2.0.192.in-addr.arpa.", dns.TypePTR); fwd.calls != 2 || m.Rcode != dns.RcodeSuccess {
		t.Fatalf("reverse outside: %v calls=%d", m, fwd.calls)
	}
	fwd.err = errors.New("upstream down")
	if m := ask(s, "example.org.", dns.TypeA); m.Rcode != dns.RcodeServerFailure {
		t.Fatalf("failed forward: %s", dns.RcodeToString[m.Rcode])
	}
}

// TestStrangersAreRefused: a client outside the allowed networks gets
// REFUSED for cluster names and is not forwarded for others (the node is
// not an open resolver).
func TestStrangersAreRefused(t *testing.T) {
	fwd := &fakeForwarder{}
	s := testServer(t, fwd, fixtures()...)
	stranger := &net.UDPAddr{IP: net.ParseIP("203.0.113.5"), Port: 53000}
	for _, name := range []string{"web.default.svc.cluster.local.", "example.org."} {
		m := s.respond(stranger, "udp", new(dns.Msg).SetQuestion(name, dns.TypeA))
		if m.Rcode != dns.RcodeRefused || len(m.Answer) != 0 {
			t.Errorf("%s from a stranger: %s %v", name, dns.RcodeToString[m.Rcode], m.Answer)
		}
	}
	if fwd.calls != 0 {
		t.Errorf("forwarded %d questions of a stranger", fwd.calls)
	}
	tcp := &net.TCPAddr{IP: net.ParseIP("::ffff:10.244.1.1"), Port: 1}
	if m := s.respond(tcp, "tcp", new(dns.Msg).SetQuestion("web.default.svc.cluster.local.", dns.TypeA)); m.Rcode != dns.RcodeSuccess {
		t.Errorf("a pod over TCP (v4-mapped): %s", dns.RcodeToString[m.Rcode])
	}
}

func TestMalformedRequests(t *testing.T) {
	s := testServer(t, &fakeForwarder{}, fixtures()...)
	two := new(dns.Msg).SetQuestion("web.default.svc.cluster.local.", dns.TypeA)
	two.Question = append(two.Question, two.Question[0])
	if m := s.respond(podClient, "udp", two); m.Rcode != dns.RcodeFormatError {
		t.Errorf("two questions: %s", dns.RcodeToString[m.Rcode])
	}
	none := new(dns.Msg)
	if m := s.respond(podClient, "udp", none); m.Rcode != dns.RcodeFormatError {
		t.Errorf("no question: %s", dns.RcodeToString[m.Rcode])
	}
	upd := new(dns.Msg).SetUpdate("cluster.local.")
	if m := s.respond(podClient, "udp", upd); m.Rcode != dns.RcodeNotImplemented {
		t.Errorf("update: %s", dns.RcodeToString[m.Rcode])
	}
}

// unsynced are Records whose caches are still listing.
type unsynced struct{ Records }

func (unsynced) HasSynced() bool { return false }

func TestServerFailureUntilSynced(t *testing.T) {
	s := testServer(t, &fakeForwarder{}, fixtures()...)
	s.records = unsynced{s.records}
	if m := ask(s, "web.default.svc.cluster.local.", dns.TypeA); m.Rcode != dns.RcodeServerFailure {
		t.Fatalf("before sync: %s, want SERVFAIL (not a false NXDOMAIN)", dns.RcodeToString[m.Rcode])
	}
}

// fakeWriter is a dns.ResponseWriter over UDP that keeps the reply.
type fakeWriter struct {
	dns.ResponseWriter
	reply *dns.Msg
}

func (w *fakeWriter) LocalAddr() net.Addr       { return &net.UDPAddr{IP: net.ParseIP("10.0.0.1"), Port: 53} }
func (w *fakeWriter) RemoteAddr() net.Addr      { return podClient }
func (w *fakeWriter) WriteMsg(m *dns.Msg) error { w.reply = m; return nil }

func TestLargeUDPAnswersAreTruncated(t *testing.T) {
	var eps []discoveryv1.Endpoint
	for i := 0; i < 100; i++ {
		eps = append(eps, ep(fmt.Sprintf("10.244.1.%d", i), true, ""))
	}
	s := testServer(t, &fakeForwarder{}, service("default", "big", corev1.ClusterIPNone), slice("default", "big-1", "big", nil, eps...))
	w := &fakeWriter{}
	s.ServeDNS(w, new(dns.Msg).SetQuestion("big.default.svc.cluster.local.", dns.TypeA))
	if !w.reply.Truncated || w.reply.Len() > dns.MinMsgSize {
		t.Fatalf("100 A records over UDP: truncated=%v len=%d", w.reply.Truncated, w.reply.Len())
	}
	if m := s.respond(podClient, "tcp", new(dns.Msg).SetQuestion("big.default.svc.cluster.local.", dns.TypeA)); len(m.Answer) != 100 {
		t.Fatalf("over TCP: %d answers, want 100", len(m.Answer))
	}
}

func TestNames(t *testing.T) {
	v6 := netip.MustParseAddr("fd00::1:2")
	if got, ok := undashIP(dashIP(v6)); !ok || got != v6 {
		t.Errorf("v6 dashes: %v %v", got, ok)
	}
	arpa, _ := dns.ReverseAddr(v6.String())
	if got, ok := reverseIP(arpa); !ok || got != v6 {
		t.Errorf("ip6.arpa %s: %v %v", arpa, got, ok)
	}
	for _, bad := range []string{"1.2.3.in-addr.arpa.", "x.1.2.3.in-addr.arpa.", "1.ip6.arpa."} {
		if _, ok := reverseIP(bad); ok {
			t.Errorf("%s parsed", bad)
		}
	}
	if err := (Config{Domain: "cluster.local", TTL: 5 * time.Second}).Validate(); err == nil {
		t.Error("no allowed networks accepted")
	}
}
