// Package healthcheck is the service proxy's health server, kube-proxy's
// on 0.0.0.0:10256: /healthz and /livez answer 200 while the proxy keeps
// up with the changes it is given, 503 once a change has waited longer
// than the timeout (kube-proxy: twice the sync period) for a sync that
// applies it. /healthz is also 503 while this node is being deleted or is
// tainted ToBeDeletedByClusterAutoscaler, so that load balancers drain it
// first. Both answer {"lastUpdated", "currentTime"} (and "nodeEligible"),
// nothing else: the port needs no credentials, as kube-proxy's.
package healthcheck

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/proxy"
)

// ToBeDeletedTaint is the Cluster Autoscaler's taint on a node it is about
// to delete.
const ToBeDeletedTaint = "ToBeDeletedByClusterAutoscaler"

// Server tracks the proxy's health; it implements proxy.Observer.
type Server struct {
	proxy.NopObserver
	clock   clock.PassiveClock
	timeout time.Duration
	healthz *prometheus.CounterVec
	livez   *prometheus.CounterVec

	mu          sync.Mutex
	lastUpdated time.Time
	// queued is when the oldest change that no sync has taken began to
	// wait; inflight the same for the changes the running sync applies.
	queued, inflight time.Time
	nodeEligible     bool
}

var _ proxy.Observer = (*Server)(nil)

// New makes a health server whose proxy is unhealthy once a change waited
// longer than timeout; it registers kube-proxy's kubeproxy_proxy_healthz_total
// and kubeproxy_proxy_livez_total with reg.
func New(timeout time.Duration, reg prometheus.Registerer, clk clock.PassiveClock) (*Server, error) {
	s := &Server{clock: clk, timeout: timeout, nodeEligible: true,
		healthz: codeCounter("proxy_healthz_total", "Cumulative proxy healthz HTTP status"),
		livez:   codeCounter("proxy_livez_total", "Cumulative proxy livez HTTP status")}
	for _, c := range []prometheus.Collector{s.healthz, s.livez} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func codeCounter(name, help string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Subsystem: "kubeproxy", Name: name, Help: help}, []string{"code"})
}

// Queued implements proxy.Observer: a change waits for a sync.
func (s *Server) Queued() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queued.IsZero() {
		s.queued = s.clock.Now()
	}
}

// SyncStarted implements proxy.Observer: the waiting changes are in the
// sync that starts.
func (s *Server) SyncStarted() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight = earliest(s.inflight, s.queued)
	s.queued = time.Time{}
}

// Synced implements proxy.Observer: a sync that failed leaves its changes
// waiting.
func (s *Server) Synced(res proxy.SyncResult, _ *proxy.Snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if res.Err != nil {
		s.queued = earliest(s.queued, s.inflight)
	} else {
		s.lastUpdated = s.clock.Now()
	}
	s.inflight = time.Time{}
}

// NodeChanged implements proxy.Observer: a node being deleted, or tainted
// for deletion, is not eligible for traffic.
func (s *Server) NodeChanged(node *corev1.Node, deleted bool) {
	eligible := !deleted && node.DeletionTimestamp == nil
	for _, t := range node.Spec.Taints {
		if t.Key == ToBeDeletedTaint {
			eligible = false
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nodeEligible = eligible
}

// health says whether the proxy keeps up, as kube-proxy decides: healthy
// until the first sync has succeeded (starting up), then unless a change
// has waited for timeout or longer. It also returns the last successful
// sync's time and the node's eligibility.
// Healthy reports what /livez does: the proxy keeps up with its changes.
func (s *Server) Healthy() bool {
	healthy, _, _ := s.health()
	return healthy
}

func (s *Server) health() (healthy bool, lastUpdated time.Time, eligible bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	oldest := earliest(s.queued, s.inflight)
	healthy = s.lastUpdated.IsZero() || oldest.IsZero() || s.clock.Since(oldest) < s.timeout
	return healthy, s.lastUpdated, s.nodeEligible
}

// earliest is the earlier of two times, a zero time counting as none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
