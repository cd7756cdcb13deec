// Package proxy is nodeagent's service proxy (the kube-proxy half): it
// turns Services and EndpointSlices into a Snapshot, a plain value, and
// hands it to one Backend (iptables, nftables or ipvs, in the packages
// below) that programs the kernel in one transaction per sync.
//
// The flow: informers → a change tracker (tracker.go) that keeps the
// desired state in memory → a sync loop with a minimum interval and a
// periodic full resync (runner.go) → Backend.Sync. Backends keep what they
// last applied and send only differences; none reads the kernel's state
// back on the hot path. Endpoint selection (ready, then serving
// terminating; traffic policies) is shared by every backend
// (endpoints.go).
//
// An Observer (observer.go) hears about every change and sync: the
// metrics of proxy/metrics (kube-proxy's names, on 127.0.0.1:10249) and
// the health server of proxy/healthcheck (kube-proxy's /healthz and
// /livez on 0.0.0.0:10256) are the two cmd/ wires in.
package proxy
