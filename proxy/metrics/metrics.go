// Package metrics holds the service proxy's Prometheus metrics under
// kube-proxy's names (kubeproxy_sync_proxy_rules_*,
// kubeproxy_network_programming_duration_seconds, ...), registered in a
// registry the caller owns (no global registry), and the handler that serves
// them on the metrics port (kube-proxy's 127.0.0.1:10249).
//
// The histograms and gauges that kube-proxy labels by ip_family carry
// ip_family="IPv4": this proxy programs IPv4 only.
package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/proxy"
)

// The proxy modes whose own metrics are registered (kube-proxy registers
// the iptables counters in iptables mode, the nftables ones in nftables).
const (
	modeIPTables = "iptables"
	modeNFTables = "nftables"
)

// Metrics are the proxy's metrics; it implements proxy.Observer.
type Metrics struct {
	proxy.NopObserver // NodeChanged is the health server's concern
	clock             clock.PassiveClock
	mode              string
	rules             proxy.RuleCounter
	start             time.Time
	m                 families

	mu              sync.Mutex
	pendingServices map[types.NamespacedName]bool
	pendingSlices   map[types.NamespacedName]bool
	// triggers are the endpoint changes' trigger times waiting for a sync;
	// inflight those the running sync applies.
	triggers, inflight []time.Time
}

var _ proxy.Observer = (*Metrics)(nil)

// New registers the metrics of a proxy in mode with reg. rules, when not
// nil, is asked for the rule counts after each sync (from the sync loop,
// so never concurrently with the backend's Sync).
func New(reg prometheus.Registerer, mode string, rules proxy.RuleCounter, clk clock.PassiveClock) (*Metrics, error) {
	m := &Metrics{clock: clk, mode: mode, rules: rules, start: clk.Now(), m: newFamilies(),
		pendingServices: map[types.NamespacedName]bool{}, pendingSlices: map[types.NamespacedName]bool{}}
	for _, c := range m.m.forMode(mode, rules != nil) {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// ServiceChanged implements proxy.Observer.
func (m *Metrics) ServiceChanged(svc types.NamespacedName) {
	m.m.serviceChanges.Inc()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pendingServices[svc] = true
	m.m.servicesPending.Set(float64(len(m.pendingServices)))
}

// EndpointsChanged implements proxy.Observer. A trigger time from before
// the proxy started is not counted (as kube-proxy: the first sync would
// report the age of every object as its programming latency).
func (m *Metrics) EndpointsChanged(svc types.NamespacedName, triggered time.Time) {
	m.m.endpointChanges.Inc()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pendingSlices[svc] = true
	m.m.endpointsPending.Set(float64(len(m.pendingSlices)))
	if !triggered.IsZero() && !triggered.Before(m.start) {
		m.triggers = append(m.triggers, triggered)
	}
}

// Queued implements proxy.Observer.
func (m *Metrics) Queued() {
	m.m.lastQueued.Set(unixSeconds(m.clock.Now()))
}

// SyncStarted implements proxy.Observer: the pending changes are in the
// snapshot being applied.
func (m *Metrics) SyncStarted() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.pendingServices)
	clear(m.pendingSlices)
	m.m.servicesPending.Set(0)
	m.m.endpointsPending.Set(0)
	m.inflight, m.triggers = m.triggers, nil
}

// Synced implements proxy.Observer.
func (m *Metrics) Synced(res proxy.SyncResult, snap *proxy.Snapshot) {
	m.mu.Lock()
	inflight := m.inflight
	m.inflight = nil
	m.mu.Unlock()
	if res.Err != nil {
		m.countFailure(res.Full)
		return // the changes' latency is measured by a sync that applies them
	}
	m.observeDuration(res)
	now := m.clock.Now()
	m.m.lastSync.Set(unixSeconds(now))
	for _, t := range inflight {
		m.m.networkProgramming.Observe(now.Sub(t).Seconds())
	}
	internal, external := noLocalEndpoints(snap)
	m.m.noLocal.WithLabelValues("internal").Set(float64(internal))
	m.m.noLocal.WithLabelValues("external").Set(float64(external))
	if m.rules != nil {
		m.setRuleCounts()
	}
}

func (m *Metrics) observeDuration(res proxy.SyncResult) {
	s := res.Took.Seconds()
	m.m.syncDuration.Observe(s)
	if res.Full {
		m.m.fullSyncDuration.Observe(s)
	} else {
		m.m.partialSyncDuration.Observe(s)
	}
}

func (m *Metrics) countFailure(full bool) {
	switch m.mode {
	case modeIPTables:
		m.m.restoreFailures.Inc()
		if !full {
			m.m.partialRestoreFailures.Inc()
		}
	case modeNFTables:
		m.m.nftablesSyncFailures.Inc()
	}
}

func (m *Metrics) setRuleCounts() {
	total, last := m.rules.RuleCounts()
	for table, n := range total {
		m.m.rulesTotal.WithLabelValues(table).Set(float64(n))
	}
	for table, n := range last {
		m.m.rulesLast.WithLabelValues(table).Set(float64(n))
	}
}

// noLocalEndpoints counts the service ports with a Local traffic policy
// and no local endpoint to send to, for internal and external traffic
// (what kube-proxy's sync_proxy_rules_no_local_endpoints_total reports).
func noLocalEndpoints(snap *proxy.Snapshot) (internal, external int) {
	if snap == nil {
		return 0, 0
	}
	for name, sp := range snap.Services {
		if !sp.InternalLocal && !sp.ExternalLocal {
			continue
		}
		if hasUsableLocal(snap.Endpoints[name]) {
			continue
		}
		if sp.InternalLocal {
			internal++
		}
		if sp.ExternalLocal {
			external++
		}
	}
	return internal, external
}

// hasUsableLocal: a local endpoint is ready, or serving while terminating
// (the fallback when none is ready).
func hasUsableLocal(eps []proxy.Endpoint) bool {
	for _, e := range eps {
		if e.Local && (e.Ready || e.Serving && e.Terminating) {
			return true
		}
	}
	return false
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
