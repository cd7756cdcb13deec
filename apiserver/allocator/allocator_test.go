package allocator

import (
	"context"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

var ctx = context.Background()

func service(name string, t corev1.ServiceType, change ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{}
	s.Namespace, s.Name = "default", name
	s.Spec.Type = t
	s.Spec.Selector = map[string]string{"app": name}
	s.Spec.Ports = []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}}
	for _, c := range change {
		c(s)
	}
	return s
}

func assigner(t *testing.T, cidr string, ports string, view MapView, rnd Rand) *Assigner {
	t.Helper()
	ips, err := ParseIPRange(cidr)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := ParsePortRange(ports)
	if err != nil {
		t.Fatal(err)
	}
	return &Assigner{IPs: ips, Ports: pr, View: view, Rand: rnd}
}

// zero always picks the first candidate, so scans are exercised.
func zero(uint64) uint64 { return 0 }

func TestRanges(t *testing.T) {
	r, err := ParseIPRange("10.96.0.0/12")
	if err != nil || r.First().String() != "10.96.0.1" || r.dynamic() != 1<<20-3 {
		t.Fatalf("%v %v %d", err, r.First(), r.dynamic())
	}
	for ip, want := range map[string]bool{"10.96.0.0": false, "10.96.0.1": true, "10.111.255.254": true,
		"10.111.255.255": false, "10.112.0.0": false, "10.95.255.255": false} {
		if got := r.Contains(netip.MustParseAddr(ip)); got != want {
			t.Errorf("Contains(%s) = %v", ip, got)
		}
	}
	if r.dynamicAt(0).String() != "10.96.0.2" || r.dynamicAt(r.dynamic()-1).String() != "10.111.255.254" {
		t.Errorf("dynamic bounds %v %v", r.dynamicAt(0), r.dynamicAt(r.dynamic()-1))
	}
	for _, bad := range []string{"10.96.0.0", "fd00::/108", "10.0.0.0/30"} {
		if _, err := ParseIPRange(bad); err == nil {
			t.Errorf("ParseIPRange(%q) accepted", bad)
		}
	}
	p, err := ParsePortRange("30000-32767")
	if err != nil || p.Size != 2768 || !p.Contains(32767) || p.Contains(29999) || p.String() != "30000-32767" {
		t.Fatalf("%v %+v", err, p)
	}
	for _, bad := range []string{"3-1", "0-10", "30000-70000", "x"} {
		if _, err := ParsePortRange(bad); err == nil {
			t.Errorf("ParsePortRange(%q) accepted", bad)
		}
	}
}

func TestAssign(t *testing.T) {
	taken := MapView{IPKey("10.96.0.2"): "default/other", PortKey(30000): "default/other"}
	tests := []struct {
		name   string
		svc    *corev1.Service
		old    *corev1.Service
		errs   string
		ip     string
		nports []int32
		hcnp   int32
	}{
		{name: "picks the first free IP, skipping the reserved and the taken", svc: service("a", corev1.ServiceTypeClusterIP),
			ip: "10.96.0.3"},
		{name: "headless allocates nothing", svc: service("h", corev1.ServiceTypeClusterIP, ip("None")),
			ip: "None"},
		{name: "ExternalName allocates nothing", svc: service("e", corev1.ServiceTypeExternalName)},
		{name: "requested and free", svc: service("a", corev1.ServiceTypeClusterIP, ip("10.96.0.10")), ip: "10.96.0.10"},
		{name: "requested and taken", svc: service("a", corev1.ServiceTypeClusterIP, ip("10.96.0.2")),
			errs: `spec.clusterIPs: Invalid value: ["10.96.0.2"]: failed to allocate IP 10.96.0.2: provided IP is already allocated`},
		{name: "reserved for kubernetes", svc: service("a", corev1.ServiceTypeClusterIP, ip("10.96.0.1")),
			errs: `spec.clusterIPs: Invalid value: ["10.96.0.1"]: failed to allocate IP 10.96.0.1: provided IP is already allocated`},
		{name: "kubernetes gets the first IP", svc: service("kubernetes", corev1.ServiceTypeClusterIP, ip("10.96.0.1")), ip: "10.96.0.1"},
		{name: "the network address is not in the range", svc: service("a", corev1.ServiceTypeClusterIP, ip("10.96.0.0")),
			errs: `spec.clusterIPs: Invalid value: ["10.96.0.0"]: failed to allocate IP 10.96.0.0: provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12`},
		{name: "update keeps what the stored version holds", svc: service("o", corev1.ServiceTypeNodePort, ip("10.96.0.2"), nodePort(30000)),
			old: service("o", corev1.ServiceTypeNodePort, ip("10.96.0.2"), nodePort(30000)), ip: "10.96.0.2", nports: []int32{30000}},
		{name: "node port picked, skipping the taken", svc: service("a", corev1.ServiceTypeNodePort), ip: "10.96.0.3", nports: []int32{30001}},
		{name: "node port taken", svc: service("a", corev1.ServiceTypeNodePort, nodePort(30000)),
			errs: `spec.ports[0].nodePort: Invalid value: 30000: provided port is already allocated`},
		{name: "node port out of range", svc: service("a", corev1.ServiceTypeNodePort, nodePort(8080)),
			errs: `spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767`},
		{name: "TCP and UDP of one port share a node port", svc: service("dns", corev1.ServiceTypeNodePort, func(s *corev1.Service) {
			s.Spec.Ports = []corev1.ServicePort{{Name: "tcp", Port: 53, Protocol: corev1.ProtocolTCP}, {Name: "udp", Port: 53, Protocol: corev1.ProtocolUDP},
				{Name: "other", Port: 54, Protocol: corev1.ProtocolUDP}}
		}), ip: "10.96.0.3", nports: []int32{30001, 30001, 30002}},
		{name: "LoadBalancer without node ports", svc: service("lb", corev1.ServiceTypeLoadBalancer, func(s *corev1.Service) {
			f := false
			s.Spec.AllocateLoadBalancerNodePorts = &f
		}), ip: "10.96.0.3", nports: []int32{0}},
		{name: "Local LoadBalancer gets a health check node port", svc: service("lb", corev1.ServiceTypeLoadBalancer, func(s *corev1.Service) {
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		}), ip: "10.96.0.3", nports: []int32{30001}, hcnp: 30002},
		{name: "IPv6 refused", svc: service("a", corev1.ServiceTypeClusterIP, func(s *corev1.Service) { s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol} }),
			errs: `spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs, err := assigner(t, "10.96.0.0/12", "30000-32767", taken, zero).Assign(ctx, tt.svc, tt.old)
			if err != nil {
				t.Fatal(err)
			}
			if got := errs.ToAggregate(); (got == nil) != (tt.errs == "") || (got != nil && got.Error() != tt.errs) {
				t.Fatalf("errors: %v, want %q", got, tt.errs)
			}
			if tt.errs != "" {
				return
			}
			if tt.svc.Spec.ClusterIP != tt.ip || (tt.ip != "" && tt.svc.Spec.ClusterIPs[0] != tt.ip) {
				t.Errorf("clusterIP %q %v, want %q", tt.svc.Spec.ClusterIP, tt.svc.Spec.ClusterIPs, tt.ip)
			}
			for i, want := range tt.nports {
				if got := tt.svc.Spec.Ports[i].NodePort; got != want {
					t.Errorf("ports[%d].nodePort %d, want %d", i, got, want)
				}
			}
			if tt.svc.Spec.HealthCheckNodePort != tt.hcnp {
				t.Errorf("healthCheckNodePort %d, want %d", tt.svc.Spec.HealthCheckNodePort, tt.hcnp)
			}
		})
	}
}

func ip(v string) func(*corev1.Service) {
	return func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = v, []string{v} }
}

func nodePort(p int32) func(*corev1.Service) {
	return func(s *corev1.Service) { s.Spec.Ports[0].NodePort = p }
}

// Filling a tiny range hands out every address once, then reports full.
func TestAssignFillsRangeThenFull(t *testing.T) {
	view := MapView{}
	a := assigner(t, "10.0.0.0/29", "30000-30001", view, func(n uint64) uint64 { return n / 2 })
	seen := map[string]bool{}
	for i := range 5 { // 8 - network - broadcast - reserved first
		s := service("s", corev1.ServiceTypeClusterIP)
		s.Name = s.Name + string(rune('a'+i))
		if errs, err := a.Assign(ctx, s, nil); err != nil || len(errs) > 0 {
			t.Fatalf("%d: %v %v", i, err, errs)
		}
		if seen[s.Spec.ClusterIP] || s.Spec.ClusterIP == "10.0.0.1" {
			t.Fatalf("%s handed out twice or reserved", s.Spec.ClusterIP)
		}
		seen[s.Spec.ClusterIP] = true
		view.Hold(ownerOf(s), Held(s))
	}
	if _, err := a.Assign(ctx, service("full", corev1.ServiceTypeClusterIP), nil); err == nil {
		t.Fatal("a full range gave out an IP")
	}
}

func TestPrepareUpdate(t *testing.T) {
	stored := service("s", corev1.ServiceTypeNodePort, ip("10.96.0.5"), nodePort(30080), func(s *corev1.Service) {
		s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	})

	put := service("s", corev1.ServiceTypeNodePort) // a manifest without allocated values
	PrepareUpdate(put, stored)
	if put.Spec.ClusterIP != "10.96.0.5" || put.Spec.ClusterIPs[0] != "10.96.0.5" || put.Spec.Ports[0].NodePort != 30080 {
		t.Errorf("allocated values not kept: %+v", put.Spec)
	}

	toCIP := stored.DeepCopy()
	toCIP.Spec.Type = corev1.ServiceTypeClusterIP
	PrepareUpdate(toCIP, stored)
	if toCIP.Spec.Ports[0].NodePort != 0 || toCIP.Spec.ExternalTrafficPolicy != "" || toCIP.Spec.ClusterIP != "10.96.0.5" {
		t.Errorf("NodePort to ClusterIP: %+v", toCIP.Spec)
	}

	toEN := stored.DeepCopy()
	toEN.Spec.Type = corev1.ServiceTypeExternalName
	PrepareUpdate(toEN, stored)
	if toEN.Spec.ClusterIP != "" || toEN.Spec.ClusterIPs != nil || toEN.Spec.IPFamilies != nil || toEN.Spec.Ports[0].NodePort != 0 {
		t.Errorf("to ExternalName: %+v", toEN.Spec)
	}

	// A node port the client changed on purpose is not dropped (validation
	// then refuses it on a ClusterIP service).
	changed := stored.DeepCopy()
	changed.Spec.Type = corev1.ServiceTypeClusterIP
	changed.Spec.Ports[0].NodePort = 30099
	PrepareUpdate(changed, stored)
	if changed.Spec.Ports[0].NodePort != 30099 {
		t.Errorf("changed node port dropped")
	}
}

func TestHeld(t *testing.T) {
	s := service("s", corev1.ServiceTypeLoadBalancer, ip("10.96.0.5"), func(s *corev1.Service) {
		s.Spec.Ports = []corev1.ServicePort{{Port: 53, NodePort: 30053, Protocol: corev1.ProtocolTCP}, {Port: 53, NodePort: 30053, Protocol: corev1.ProtocolUDP}}
		s.Spec.HealthCheckNodePort = 30100
	})
	got := Held(s)
	want := []Key{"ip/10.96.0.5", "port/30053", "port/30100"}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%v, want %v", got, want)
		}
	}
	if Held(service("h", corev1.ServiceTypeClusterIP, ip("None"))) != nil {
		t.Fatal("headless holds something")
	}
}
