package svchealth

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"reflect"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nodeagent/nodeagent/proxy"
)

func TestDesiredCountsDistinctLocalReadyEndpoints(t *testing.T) {
	web := types.NamespacedName{Namespace: "ns", Name: "web"}
	http1 := proxy.ServicePortName{NamespacedName: web, Port: "http", Protocol: corev1.ProtocolTCP}
	https := proxy.ServicePortName{NamespacedName: web, Port: "https", Protocol: corev1.ProtocolTCP}
	other := proxy.ServicePortName{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "cluster"}, Protocol: corev1.ProtocolTCP}
	ep := func(ip string, local, ready bool) proxy.Endpoint {
		return proxy.Endpoint{IP: netip.MustParseAddr(ip), Port: 80, Local: local, Ready: ready}
	}
	snap := &proxy.Snapshot{
		Services: map[proxy.ServicePortName]*proxy.ServicePort{
			http1: {Name: http1, HealthCheckNodePort: 32000}, https: {Name: https, HealthCheckNodePort: 32000}, other: {Name: other}},
		Endpoints: map[proxy.ServicePortName][]proxy.Endpoint{
			http1: {ep("10.244.0.5", true, true), ep("10.244.0.6", true, false), ep("10.244.1.5", false, true)},
			https: {ep("10.244.0.5", true, true), ep("10.244.0.7", true, true)},
			other: {ep("10.244.0.9", true, true)}},
	}
	want := map[int32]Target{32000: {Service: web, LocalEndpoints: 2}}
	if got := Desired(snap); !reflect.DeepEqual(got, want) {
		t.Errorf("Desired = %v, want %v", got, want)
	}
}

// loopback opens the ports on 127.0.0.1 at free numbers and remembers them.
type loopback struct {
	mu    sync.Mutex
	addrs map[int32]string
}

func (l *loopback) listen(port int32) (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err == nil {
		l.mu.Lock()
		l.addrs[port] = ln.Addr().String()
		l.mu.Unlock()
	}
	return ln, err
}

func ask(t *testing.T, addr string) (int, answer, http.Header) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, a, resp.Header
}

func TestServerAnswersAsKubeProxy(t *testing.T) {
	l := &loopback{addrs: map[int32]string{}}
	healthy := true
	s := New(l.listen, func() bool { return healthy }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer s.Close()
	web := types.NamespacedName{Namespace: "ns", Name: "web"}
	s.Update(map[int32]Target{32000: {Service: web, LocalEndpoints: 2}})
	addr := l.addrs[32000]
	code, a, h := ask(t, addr)
	if code != 200 || a.LocalEndpoints != 2 || !a.ServiceProxyHealthy || a.Service.Name != "web" || a.Service.Namespace != "ns" ||
		h.Get("X-Load-Balancing-Endpoint-Weight") != "2" || h.Get("Content-Type") != "application/json" {
		t.Errorf("two local endpoints: %d %+v %v", code, a, h)
	}
	s.Update(map[int32]Target{32000: {Service: web}})
	if code, a, _ := ask(t, addr); code != 503 || a.LocalEndpoints != 0 {
		t.Errorf("no local endpoint: %d %+v", code, a)
	}
	s.Update(map[int32]Target{32000: {Service: web, LocalEndpoints: 1}})
	healthy = false
	if code, a, _ := ask(t, addr); code != 503 || a.ServiceProxyHealthy {
		t.Errorf("proxy unhealthy: %d %+v", code, a)
	}
	s.Update(nil)
	if _, err := http.Get("http://" + addr + "/"); err == nil {
		t.Error("a port no Service names still answers")
	}
}
