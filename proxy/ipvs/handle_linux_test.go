package ipvs

import (
	"net"
	"testing"

	"github.com/moby/ipvs"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

func TestMobyConversion(t *testing.T) {
	for _, vs := range []VirtualServer{
		{ServiceKey: tcp("10.96.0.10", 80), Scheduler: "rr"},
		{ServiceKey: key("10.96.0.53", 53, corev1.ProtocolUDP), Scheduler: "sh", Persistent: true, Timeout: 10800},
		{ServiceKey: key("10.96.0.7", 7, corev1.ProtocolSCTP), Scheduler: "lc"},
	} {
		s := toMobyService(vs)
		if s.AddressFamily != unix.AF_INET || s.Netmask != 0xffffffff || !s.Address.Equal(net.ParseIP(vs.Addr.String())) {
			t.Errorf("%s: moby service %+v", vs.ServiceKey, s)
		}
		if (s.Flags&flagPersistent != 0) != vs.Persistent {
			t.Errorf("%s: flags %#x", vs.ServiceKey, s.Flags)
		}
		back, ok := fromMobyService(s)
		if !ok || back != vs {
			t.Errorf("round trip of %+v = %+v, %v", vs, back, ok)
		}
	}
	if _, ok := fromMobyService(&ipvs.Service{FWMark: 7, Address: net.IPv4zero}); ok {
		t.Error("a firewall-mark service was read as ours")
	}
	d := toMobyDest(RealServer{Addr: aps("10.244.1.3:8080")[0], Weight: 0})
	if d.ConnectionFlags != ipvs.ConnectionFlagMasq || d.Port != 8080 || d.Weight != 0 {
		t.Errorf("destination %+v", d)
	}
}
