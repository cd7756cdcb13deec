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
package proxy
