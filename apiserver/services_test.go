package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/nodeagent/nodeagent/apiserver/allocator"
)

func svc(name string, t corev1.ServiceType, change ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{Type: t, Selector: map[string]string{"app": name},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}}}
	for _, c := range change {
		c(s)
	}
	return s
}

func withIP(ip string) func(*corev1.Service) {
	return func(s *corev1.Service) { s.Spec.ClusterIP = ip }
}

func withNodePort(p int32) func(*corev1.Service) {
	return func(s *corev1.Service) { s.Spec.Ports[0].NodePort = p }
}

func mustCreateSvc(t *testing.T, c kubernetes.Interface, s *corev1.Service) *corev1.Service {
	t.Helper()
	out, err := c.CoreV1().Services("default").Create(bg, s, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create service %s: %v", s.Name, err)
	}
	return out
}

func wantInvalid(t *testing.T, err error, want string) {
	t.Helper()
	if !apierrors.IsInvalid(err) || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
}

func TestKubernetesServiceHoldsTheFirstIP(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c := ts.admin(t)
	k, err := c.CoreV1().Services("default").Get(bg, "kubernetes", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := k.Spec.Ports[0]
	if k.Spec.ClusterIP != "10.96.0.1" || p.Port != 443 || p.TargetPort.IntValue() != ts.port || p.Name != "https" ||
		k.Labels["provider"] != "kubernetes" {
		t.Fatalf("kubernetes service: %+v", k.Spec)
	}
	// Loopback cannot be an endpoint; with a real address the server keeps
	// a slice, and puts back a deleted service.
	if _, err := c.DiscoveryV1().EndpointSlices("default").Get(bg, "kubernetes", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("slice for a loopback advertise address: %v", err)
	}
	if err := c.CoreV1().Services("default").Delete(bg, "kubernetes", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// Another server on the same etcd has registered its address.
	if _, err := ts.srv.backend.Client.Put(bg, apiServerLeasePrefix+"192.0.2.11", "192.0.2.11"); err != nil {
		t.Fatal(err)
	}
	addrs, err := ts.srv.apiServerAddresses(bg)
	if err != nil || len(addrs) != 2 || addrs[0] != "127.0.0.1" || addrs[1] != "192.0.2.11" {
		t.Fatalf("server addresses: %v %v", err, addrs)
	}
	if err := ts.srv.syncKubernetesService(bg, append(addrs, "192.0.2.10"), ts.port); err != nil {
		t.Fatal(err)
	}
	es, err := c.DiscoveryV1().EndpointSlices("default").Get(bg, "kubernetes", metav1.GetOptions{})
	if err != nil || len(es.Endpoints) != 2 || es.Endpoints[0].Addresses[0] != "192.0.2.11" || es.Endpoints[1].Addresses[0] != "192.0.2.10" ||
		*es.Ports[0].Port != int32(ts.port) || es.Labels["kubernetes.io/service-name"] != "kubernetes" {
		t.Fatalf("kubernetes slice: %v %+v", err, es)
	}
	if k, err = c.CoreV1().Services("default").Get(bg, "kubernetes", metav1.GetOptions{}); err != nil || k.Spec.ClusterIP != "10.96.0.1" {
		t.Fatalf("kubernetes service put back: %v %+v", err, k)
	}
}

func TestClusterIPAllocation(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c := ts.admin(t)
	a := mustCreateSvc(t, c, svc("a", ""))
	ip, err := netip.ParseAddr(a.Spec.ClusterIP)
	if err != nil || !netip.MustParsePrefix("10.96.0.0/12").Contains(ip) || ip.String() == "10.96.0.1" || ip.String() == "10.96.0.0" {
		t.Fatalf("allocated %q", a.Spec.ClusterIP)
	}
	if len(a.Spec.ClusterIPs) != 1 || a.Spec.ClusterIPs[0] != a.Spec.ClusterIP || a.Spec.IPFamilies[0] != corev1.IPv4Protocol ||
		*a.Spec.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack {
		t.Fatalf("clusterIPs/families: %+v", a.Spec)
	}
	svcs := c.CoreV1().Services("default")
	_, err = svcs.Create(bg, svc("b", "", withIP(a.Spec.ClusterIP)), metav1.CreateOptions{})
	wantInvalid(t, err, fmt.Sprintf(`Service "b" is invalid: spec.clusterIPs: Invalid value: ["%s"]: failed to allocate IP %s: provided IP is already allocated`, ip, ip))
	_, err = svcs.Create(bg, svc("b", "", withIP("10.200.0.10")), metav1.CreateOptions{})
	wantInvalid(t, err, `Service "b" is invalid: spec.clusterIPs: Invalid value: ["10.200.0.10"]: failed to allocate IP 10.200.0.10: provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12`)
	_, err = svcs.Create(bg, svc("b", "", withIP("10.96.0.1")), metav1.CreateOptions{})
	wantInvalid(t, err, `Service "b" is invalid: spec.clusterIPs: Invalid value: ["10.96.0.1"]: failed to allocate IP 10.96.0.1: provided IP is already allocated`)

	if h := mustCreateSvc(t, c, svc("headless", "", withIP("None"))); h.Spec.ClusterIP != "None" {
		t.Fatalf("headless: %+v", h.Spec)
	}
	dry, err := svcs.Create(bg, svc("dry", "", withIP("10.96.0.50")), metav1.CreateOptions{DryRun: []string{"All"}})
	if err != nil || dry.Spec.ClusterIP != "10.96.0.50" {
		t.Fatalf("dry run: %v", err)
	}
	mustCreateSvc(t, c, svc("after-dry", "", withIP("10.96.0.50")))

	// A create that fails in storage (the name is taken) leaks nothing.
	if _, err := svcs.Create(bg, svc("a", "", withIP("10.96.0.60")), metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("duplicate name: %v", err)
	}
	mustCreateSvc(t, c, svc("gets-60", "", withIP("10.96.0.60")))

	// Deleting releases; the IP can be asked for again.
	if err := svcs.Delete(bg, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	mustCreateSvc(t, c, svc("b", "", withIP(a.Spec.ClusterIP)))

	// The cluster IP is immutable.
	b, _ := svcs.Get(bg, "b", metav1.GetOptions{})
	b.Spec.ClusterIP, b.Spec.ClusterIPs = "10.96.0.70", []string{"10.96.0.70"}
	if _, err := svcs.Update(bg, b, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
		t.Fatalf("changing the cluster IP: %v", err)
	}
}

func TestNodePortAllocationAndTypeChanges(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c := ts.admin(t)
	svcs := c.CoreV1().Services("default")
	np := mustCreateSvc(t, c, svc("np", corev1.ServiceTypeNodePort))
	port := np.Spec.Ports[0].NodePort
	if port < 30000 || port > 32767 {
		t.Fatalf("node port %d", port)
	}
	_, err := svcs.Create(bg, svc("np2", corev1.ServiceTypeNodePort, withNodePort(port)), metav1.CreateOptions{})
	wantInvalid(t, err, fmt.Sprintf(`Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: %d: provided port is already allocated`, port))
	_, err = svcs.Create(bg, svc("np2", corev1.ServiceTypeNodePort, withNodePort(40000)), metav1.CreateOptions{})
	wantInvalid(t, err, `Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-32767`)

	// An update that leaves the allocated values out keeps them.
	put := svc("np", corev1.ServiceTypeNodePort)
	put.ResourceVersion = np.ResourceVersion
	kept, err := svcs.Update(bg, put, metav1.UpdateOptions{})
	if err != nil || kept.Spec.ClusterIP != np.Spec.ClusterIP || kept.Spec.Ports[0].NodePort != port {
		t.Fatalf("update without allocated values: %v %+v", err, kept)
	}

	// NodePort -> ClusterIP releases the node port.
	kept.Spec.Type = corev1.ServiceTypeClusterIP
	kept.Spec.ExternalTrafficPolicy = ""
	toCIP, err := svcs.Update(bg, kept, metav1.UpdateOptions{})
	if err != nil || toCIP.Spec.Ports[0].NodePort != 0 {
		t.Fatalf("to ClusterIP: %v %+v", err, toCIP)
	}
	mustCreateSvc(t, c, svc("reuse-port", corev1.ServiceTypeNodePort, withNodePort(port)))

	// ClusterIP -> NodePort allocates.
	toCIP.Spec.Type = corev1.ServiceTypeNodePort
	toNP, err := svcs.Update(bg, toCIP, metav1.UpdateOptions{})
	if err != nil || toNP.Spec.Ports[0].NodePort == 0 || toNP.Spec.Ports[0].NodePort == port {
		t.Fatalf("to NodePort: %v %+v", err, toNP)
	}

	// -> ExternalName releases the cluster IP (and the node port).
	toNP.Spec.Type, toNP.Spec.ExternalName, toNP.Spec.Selector = corev1.ServiceTypeExternalName, "example.com", nil
	toEN, err := svcs.Update(bg, toNP, metav1.UpdateOptions{})
	if err != nil || toEN.Spec.ClusterIP != "" || len(toEN.Spec.ClusterIPs) != 0 || toEN.Spec.Ports[0].NodePort != 0 {
		t.Fatalf("to ExternalName: %v %+v", err, toEN)
	}
	mustCreateSvc(t, c, svc("reuse-ip", "", withIP(np.Spec.ClusterIP)))
	mustCreateSvc(t, c, svc("reuse-port2", corev1.ServiceTypeNodePort, withNodePort(toNP.Spec.Ports[0].NodePort)))

	// Deleting releases the node ports.
	if err := svcs.Delete(bg, "reuse-port", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	mustCreateSvc(t, c, svc("reuse-port3", corev1.ServiceTypeNodePort, withNodePort(port)))
}

// Concurrent creates in a small range: every one that succeeds has its own
// IP, the others find the range full; nothing is handed out twice.
func TestConcurrentCreatesNeverShareAnIP(t *testing.T) {
	ts := startServerWith(t, t.TempDir(), 0, func(c *Config) { c.ServiceClusterIPRange = "10.96.0.0/27" })
	c := ts.admin(t)
	const n = 40 // 29 allocatable: 32 minus network, broadcast and 10.96.0.1
	var mu sync.Mutex
	var wg sync.WaitGroup
	ips, full := map[string]string{}, 0
	for i := range n {
		wg.Go(func() {
			s, err := c.CoreV1().Services("default").Create(bg, svc(fmt.Sprintf("s%d", i), ""), metav1.CreateOptions{})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				if other, dup := ips[s.Spec.ClusterIP]; dup {
					t.Errorf("%s and %s both got %s", other, s.Name, s.Spec.ClusterIP)
				}
				ips[s.Spec.ClusterIP] = s.Name
			case apierrors.IsInternalError(err):
				full++
			default:
				t.Errorf("create: %v", err)
			}
		})
	}
	wg.Wait()
	if len(ips) != 29 || full != n-29 {
		t.Fatalf("%d allocated, %d refused", len(ips), full)
	}
}

func TestAllocationsSurviveRestartAndAreRepaired(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir, 0)
	c := ts.admin(t)
	a := mustCreateSvc(t, c, svc("a", corev1.ServiceTypeNodePort))
	b := mustCreateSvc(t, c, svc("b", ""))
	kv := ts.srv.backend.Client
	// Lose b's key (as if written before the table existed) and leave an
	// orphan behind; the restart's repair fixes both.
	if _, err := kv.Delete(bg, allocator.DefaultPrefix+string(allocator.IPKey(b.Spec.ClusterIP))); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(bg, allocator.DefaultPrefix+string(allocator.IPKey("10.96.0.99")), "default/gone"); err != nil {
		t.Fatal(err)
	}
	port := ts.port
	ts.stop()

	ts2 := startServer(t, dir, port)
	c = ts2.admin(t)
	svcs := c.CoreV1().Services("default")
	for _, ip := range []string{a.Spec.ClusterIP, b.Spec.ClusterIP, "10.96.0.1"} {
		_, err := svcs.Create(bg, svc("x", "", withIP(ip)), metav1.CreateOptions{})
		wantInvalid(t, err, fmt.Sprintf(`Service "x" is invalid: spec.clusterIPs: Invalid value: ["%s"]: failed to allocate IP %s: provided IP is already allocated`, ip, ip))
	}
	_, err := svcs.Create(bg, svc("x", corev1.ServiceTypeNodePort, withNodePort(a.Spec.Ports[0].NodePort)), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) {
		t.Fatalf("node port after restart: %v", err)
	}
	mustCreateSvc(t, c, svc("orphan-freed", "", withIP("10.96.0.99")))
	list, err := svcs.List(bg, metav1.ListOptions{FieldSelector: "metadata.name=kubernetes"})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("kubernetes service after restart: %v %d", err, len(list.Items))
	}
}

func TestNodeListsAndWatchesServicesAndSlices(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	n := ts.node(t, "n1")
	if l, err := n.CoreV1().Services("").List(bg, metav1.ListOptions{}); err != nil || len(l.Items) == 0 {
		t.Fatalf("node lists services: %v", err)
	}
	w, err := n.DiscoveryV1().EndpointSlices("").Watch(bg, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("node watches endpointslices: %v", err)
	}
	w.Stop()
	if _, err := n.CoreV1().Services("default").Create(bg, svc("x", ""), metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("node creates a service: %v", err)
	}
}

// Two stored services claiming one IP (data from before the allocation
// table): the restart's repair reports it, and both can still be updated.
func TestDuplicateFromOldDataDoesNotBlockUpdates(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir, 0)
	a := mustCreateSvc(t, ts.admin(t), svc("a", ""))
	dup := svc("dup", "", withIP(a.Spec.ClusterIP))
	dup.Namespace, dup.UID = "default", "dup-uid"
	dup.Spec.ClusterIPs = []string{a.Spec.ClusterIP}
	data, err := json.Marshal(dup)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.srv.backend.Client.Put(bg, "/registry/services/default/dup", string(data)); err != nil {
		t.Fatal(err)
	}
	port := ts.port
	ts.stop()
	ts2 := startServer(t, dir, port)
	ctx, cancel := context.WithTimeout(bg, 10*time.Second)
	defer cancel()
	svcs := ts2.admin(t).CoreV1().Services("default")
	for _, name := range []string{"a", "dup"} {
		cur, err := svcs.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cur.Labels = map[string]string{"touched": "yes"}
		if _, err := svcs.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("update %s: %v", name, err)
		}
	}
}
