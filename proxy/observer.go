package proxy

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Observer hears what the proxy does, for its metrics (proxy/metrics) and
// its health server (proxy/healthcheck). Every method must be cheap and
// safe for concurrent use: the informers' goroutines and the sync loop call
// them.
type Observer interface {
	// ServiceChanged: an informer delivered a change of this Service.
	ServiceChanged(svc types.NamespacedName)
	// EndpointsChanged: an informer delivered a change of one of this
	// Service's EndpointSlices; triggered is the slice's
	// endpoints.kubernetes.io/last-change-trigger-time (zero: none).
	EndpointsChanged(svc types.NamespacedName, triggered time.Time)
	// NodeChanged: this node's Node object changed (deleted: it is gone).
	NodeChanged(node *corev1.Node, deleted bool)
	// Queued: something changed that a sync must apply.
	Queued()
	// SyncStarted: the loop took its snapshot; what changed before is in it.
	SyncStarted()
	// Synced: a sync of snap ended; res.Err says whether it failed.
	Synced(res SyncResult, snap *Snapshot)
}

// NopObserver ignores everything; embed it to implement part of Observer.
type NopObserver struct{}

func (NopObserver) ServiceChanged(types.NamespacedName)              {}
func (NopObserver) EndpointsChanged(types.NamespacedName, time.Time) {}
func (NopObserver) NodeChanged(*corev1.Node, bool)                   {}
func (NopObserver) Queued()                                          {}
func (NopObserver) SyncStarted()                                     {}
func (NopObserver) Synced(SyncResult, *Snapshot)                     {}

// Observers hands every call to each of its members, in order.
type Observers []Observer

var _ Observer = Observers(nil)

func (o Observers) ServiceChanged(svc types.NamespacedName) {
	for _, x := range o {
		x.ServiceChanged(svc)
	}
}

func (o Observers) EndpointsChanged(svc types.NamespacedName, triggered time.Time) {
	for _, x := range o {
		x.EndpointsChanged(svc, triggered)
	}
}

func (o Observers) NodeChanged(node *corev1.Node, deleted bool) {
	for _, x := range o {
		x.NodeChanged(node, deleted)
	}
}

func (o Observers) Queued() {
	for _, x := range o {
		x.Queued()
	}
}

func (o Observers) SyncStarted() {
	for _, x := range o {
		x.SyncStarted()
	}
}

func (o Observers) Synced(res SyncResult, snap *Snapshot) {
	for _, x := range o {
		x.Synced(res, snap)
	}
}

// RuleCounter is a Backend that counts the rules it programs, for
// kube-proxy's kubeproxy_sync_proxy_rules_iptables_total and _last.
type RuleCounter interface {
	// RuleCounts are, per table, the rules the backend owns now and those
	// the last successful sync wrote.
	RuleCounts() (total, lastSync map[string]int)
}
