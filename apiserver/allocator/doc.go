// Package allocator hands out the Services' cluster IPs (from
// --service-cluster-ip-range) and node ports (from --service-node-port-range)
// and keeps them unique, also across restarts and between several servers
// on one etcd cluster.
//
// # State
//
// One etcd key per held item, beside the services:
//
//	/registry/serviceallocations/ip/10.96.0.10   -> "default/web"
//	/registry/serviceallocations/port/30080      -> "default/web"
//
// The Etcd table is linked to the services store (storage.Linked): every
// write of a service carries, in the same etcd transaction, "these keys are
// still absent or mine" comparisons and the puts and deletes that make the
// keys match what the new version holds (Held). So a service and its
// allocations are committed together or not at all: a failed or refused
// create leaks nothing, a delete (also the final one after finalizers)
// releases everything, and two creates racing for one IP cannot both
// commit; the loser assigns again (an automatic pick) or gets 422 (an IP or
// port it asked for). This is kube-apiserver's range-allocation idea with
// the compare-and-swap done per item instead of on one bitmap object: no
// hot key that every service create contends on, and no separate state to
// rebuild: after a restart the table is simply what etcd holds.
//
// At start the server still runs Repair, which makes the table agree with
// the stored services (only data written before the table existed can
// disagree): missing keys are added, keys no service holds are removed, two
// services claiming one item are reported. Each repair write compares both
// the allocation key and the service's key, so it is safe beside another
// server doing the same.
//
// # Deciding
//
// Assigner.Assign runs on admission, after validation. It checks requested
// values (in range, not held by another service; the range's first IP is
// the kubernetes Service's) with kube-apiserver's messages, and picks free
// ones: random tries against the View first, then a scan of what is held.
// PrepareUpdate is the update strategy's part: keep allocated values a
// client left out, drop the ones a type change no longer needs.
//
// Single-stack IPv4 only: IPv6 families and RequireDualStack are refused
// (headless services without a selector excepted).
package allocator
