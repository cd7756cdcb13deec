// Package svchealth serves kube-proxy's health check node ports: for each
// LoadBalancer Service with externalTrafficPolicy Local, an HTTP server on
// its spec.healthCheckNodePort (every address of the node, as kube-proxy
// with no --nodeport-addresses) that tells a cloud load balancer whether
// this node has endpoints of it: 200 with the count when it has some and
// the proxy is healthy, 503 otherwise, in kube-proxy's JSON. The ports
// need no credentials and say only the Service's name and the count, as
// kube-proxy's do.
package svchealth

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/nodeagent/nodeagent/proxy"
)

// Target is what one health check port answers for.
type Target struct {
	Service        types.NamespacedName
	LocalEndpoints int
}

// Desired is a Target per health check port in the snapshot: the Service,
// and its distinct ready endpoints on this node.
func Desired(snap *proxy.Snapshot) map[int32]Target {
	out := map[int32]Target{}
	local := map[types.NamespacedName]map[netip.Addr]bool{}
	for name, sp := range snap.Services {
		if sp.HealthCheckNodePort == 0 {
			continue
		}
		ips := local[name.NamespacedName]
		if ips == nil {
			ips = map[netip.Addr]bool{}
			local[name.NamespacedName] = ips
		}
		for _, ep := range snap.Endpoints[name] {
			if ep.Local && ep.Ready {
				ips[ep.IP] = true
			}
		}
		out[sp.HealthCheckNodePort] = Target{Service: name.NamespacedName}
	}
	for port, t := range out {
		t.LocalEndpoints = len(local[t.Service])
		out[port] = t
	}
	return out
}

// Listen opens a health check port.
type Listen func(port int32) (net.Listener, error)

// ListenAll listens on every address of the node.
func ListenAll(port int32) (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(int(port))))
}

// Server keeps one HTTP server per health check port; it is a
// proxy.Observer fed by every successful sync.
type Server struct {
	proxy.NopObserver
	listen  Listen
	healthy func() bool
	log     *slog.Logger

	mu    sync.Mutex
	ports map[int32]*port
	// failed are the ports that could not be opened, said once each.
	failed map[int32]bool
}

type port struct {
	target Target
	srv    *http.Server
}

// New serves with listen; healthy is the proxy's own health (nil: always).
func New(listen Listen, healthy func() bool, log *slog.Logger) *Server {
	if healthy == nil {
		healthy = func() bool { return true }
	}
	return &Server{listen: listen, healthy: healthy, log: log, ports: map[int32]*port{}, failed: map[int32]bool{}}
}

// Synced applies a successful sync's snapshot.
func (s *Server) Synced(res proxy.SyncResult, snap *proxy.Snapshot) {
	if res.Err == nil && snap != nil {
		s.Update(Desired(snap))
	}
}

// Update opens the ports want names, closes the others and sets the
// counts.
func (s *Server) Update(want map[int32]Target) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for n, p := range s.ports {
		if _, ok := want[n]; !ok {
			p.srv.Close()
			delete(s.ports, n)
			s.log.Info("health check node port closed", "port", n, "service", p.target.Service.String())
		}
	}
	for n, t := range want {
		if p, ok := s.ports[n]; ok {
			p.target = t
			continue
		}
		ln, err := s.listen(n)
		if err != nil {
			if !s.failed[n] {
				s.log.Warn("health check node port not served", "port", n, "service", t.Service.String(), "err", err)
			}
			s.failed[n] = true
			continue
		}
		delete(s.failed, n)
		p := &port{target: t}
		p.srv = &http.Server{Handler: s.handler(n), ReadHeaderTimeout: 5 * time.Second}
		s.ports[n] = p
		go func() {
			if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Warn("health check node port", "port", n, "err", err)
			}
		}()
		s.log.Info("health check node port open", "port", n, "service", t.Service.String())
	}
}

// Close closes every port.
func (s *Server) Close() { s.Update(nil) }

// Run closes every port when ctx ends.
func (s *Server) Run(ctx context.Context) {
	<-ctx.Done()
	s.Close()
}

// answer is kube-proxy's body.
type answer struct {
	Service struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"service"`
	LocalEndpoints      int  `json:"localEndpoints"`
	ServiceProxyHealthy bool `json:"serviceProxyHealthy"`
}

func (s *Server) handler(n int32) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		p, ok := s.ports[n]
		var t Target
		if ok {
			t = p.target
		}
		s.mu.Unlock()
		var a answer
		a.Service.Namespace, a.Service.Name = t.Service.Namespace, t.Service.Name
		a.LocalEndpoints, a.ServiceProxyHealthy = t.LocalEndpoints, s.healthy()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Load-Balancing-Endpoint-Weight", strconv.Itoa(t.LocalEndpoints))
		if t.LocalEndpoints > 0 && a.ServiceProxyHealthy {
			w.WriteHeader(http.StatusOK)
		} else {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		json.NewEncoder(w).Encode(a)
	})
}
