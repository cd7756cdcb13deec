// Package ipvs is the IPVS proxy backend (proxy.Backend, Mode "ipvs"):
// Services are load-balanced by the kernel's IPVS table instead of long
// netfilter rule chains.
//
// # What it programs
//
//   - Virtual servers (IPVS services, NAT forwarding, IPv4): one per
//     cluster IP:port/protocol, one per node IP for a node port, one per
//     external IP and load-balancer IP. Scheduler Config.Scheduler ("rr" by
//     default; "lc", "sh", ...). ClientIP affinity sets the persistent flag
//     with the affinity timeout. Real servers (weight 1) are
//     proxy.ClusterEndpoints for cluster IPs and proxy.ExternalEndpoints for
//     the rest; ExternalLocal with no local endpoint leaves none.
//
//   - The dummy link nodeagent-ipvs0 (LinkName), left down, holding the
//     cluster, external and load-balancer IPs as /32s: a local address makes
//     the kernel deliver the packet to INPUT, where IPVS takes it. Node IPs
//     are not bound; the node already has them.
//
//   - A FIXED set of companion iptables rules (CompanionRules), the same for
//     one Service or 10,000: in nat, NODEAGENT-IPVS-POSTROUTING (jumped to
//     first from POSTROUTING) masquerades packets marked with the masquerade
//     bit, IPVS-forwarded connections from outside ClusterCIDR (node and
//     node-port clients, so replies come back through us) unless they
//     carry the no-masquerade bit, and packets whose destination IP:port
//     and source IP are in the ipset LoopBackSet (a pod that reached itself
//     through a service: hairpin); NODEAGENT-IPVS-PREROUTING (first in nat
//     PREROUTING) sets the no-masquerade bit (Config.NoMasqueradeBit, 13 by
//     default) on packets whose destination IP,proto:port is in a LOCAL-*
//     set; in filter, NODEAGENT-IPVS-FORWARD (first in FORWARD) accepts
//     marked traffic and known connections, since IPVS replies cross
//     FORWARD. Every chain we make is named NODEAGENT-IPVS-*.
//
//   - A fixed list of ipsets (OwnSets), their entries kept by the same diff
//     as the virtual servers (Sets; real: netlink, in the backend's
//     netns). LoopBackSet (hash:ip,port,ip, kube-proxy's KUBE-LOOP-BACK):
//     one entry IP,proto:port,IP per endpoint on this node; iptables cannot
//     match "source equals destination", the set can, so only a pod
//     reaching itself is masqueraded and a pod reaching another pod through
//     a service keeps its address. LocalNodePortSet, LocalExternalIPSet and
//     LocalLoadBalancerSet (hash:ip,port): the node IP:node port, external
//     IP:port and load-balancer IP:port of each Service with
//     externalTrafficPolicy Local (proxy.ServicePort.ExternalLocal), and of
//     no other.
//
// # externalTrafficPolicy Local keeps the client's address
//
// IPVS takes a packet at LOCAL_IN and rewrites its destination to the real
// server, so at nat POSTROUTING, where masquerade is decided, the original
// destination is gone from the packet; conntrack still has it, but its
// --ctorigdst takes one address, not a set, and the ipvs match's --vaddr
// one as well. So the decision is made where the original destination is
// still the packet's: nat PREROUTING, which sees the first packet of every
// connection arriving from outside, marks it with the no-masquerade bit
// when its destination is in a LOCAL-* set (`-m set --match-set SET
// dst,dst`), and the skb mark travels with that same packet through IPVS
// to nat POSTROUTING (nat sees only a connection's first packet, in both
// chains), where the "service traffic from outside the pods" rule has
// `-m mark ! --mark` for the bit. The other two masquerade rules do not
// look at the bit: a pod reaching itself through a Local node port is
// still masqueraded (hairpin), and so is a packet someone marked for
// masquerade. Traffic the node sends itself does not cross PREROUTING and
// stays masqueraded (its endpoint is local anyway). Three rules and three
// sets, whatever the number of Services; only the sets' entries change.
// kube-proxy keeps node ports in per-protocol bitmap:port sets; ours hold
// node IP,proto:port in one hash:ip,port set (see LocalNodePortSet).
//
// # Sync: compute, diff, apply
//
// Compute turns a Snapshot into Desired (virtual servers, real servers,
// link addresses), a pure value that is table-tested. The backend keeps
// what it last applied in memory and sends only the difference: a changed
// endpoint touches only that real server. A full sync (first, periodic,
// after a failure) ensures the link and the rules and re-reads the handle's
// services and the link's addresses once before diffing, so drift is
// repaired; reading IPVS state is cheap, unlike listing netfilter.
//
// Graceful removal: a real server that goes away is set to weight 0 (no
// new connections) and deleted on a later sync once it has no active
// connection, or when Config.GracePeriod (15 s) has passed. A removed
// virtual server is deleted at once, with its real servers.
//
// # Ownership and cleanup
//
// IPVS state is per network namespace, and the backend is bound to one
// (Config.NetNSPath: the handle, the netlink handle and iptables all work
// there; no long-lived goroutine switches namespace). The backend owns the
// whole IPVS table of that namespace: a full sync deletes virtual servers
// it does not want and Cleanup deletes all of them. Scoping by address
// cannot work after a restart: node-port virtual servers sit on node IPs,
// which a --cleanup run without a snapshot does not know, so they would
// leak. A namespace shared with another IPVS user (keepalived) is not
// supported. Cleanup also deletes the dummy link (and so its addresses)
// and the NODEAGENT-IPVS-* chains with the jumps to them, then the ipsets
// of OwnSets (the kernel refuses to destroy a set a rule still uses, so
// they go only once the rules are gone); it is idempotent.
// CleanupLeftovers does the same without a running backend and skips the
// IPVS table, without error, on a kernel without IPVS.
//
// # Kernel support
//
// moby/ipvs returns a handle even when the kernel has no IPVS (it only
// logs), and then every call fails obscurely. So NewReal first runs
// CheckKernel: /proc/net/ip_vs must exist (after trying `modprobe ip_vs`)
// and the generic-netlink family "IPVS" must resolve in the target netns.
// Otherwise it returns a *NotSupportedError (test with IsNotSupported)
// whose message names CONFIG_IP_VS and the other proxy modes, so that
// --proxy-mode=auto can fall back.
//
// Once CheckKernel passes, NewReal sets RequiredSysctls in the backend's
// netns (SetSysctls through a SysctlWriter: ProcSysctl writes
// /proc/sys/net/ipv4/vs/* from a thread inside cfg.NetNSPath, since those
// files belong to the opener's netns): net.ipv4.vs.conntrack=1, without
// which IPVS connections have no conntrack entry and the companion
// "-m ipvs ... MASQUERADE" rules never match (no masquerade for node-port
// traffic to another node's pod, no hairpin); conn_reuse_mode=0,
// expire_nodest_conn=1 and expire_quiescent_template=1, so that reused
// client ports, deleted real servers and affinity templates of draining
// ones do not strand connections. A failed write fails NewReal with an
// error naming the key. FakeSysctl records key=value for tests.
//
// # Why the fakes
//
// The project's machines have no IPVS and no dummy link type, so every
// edge has a small interface (Handle, Links, Rules, and the clock) and a
// stateful in-memory fake in fake.go (FakeHandle with settable connection
// counts and an ipvsadm-like Dump, FakeLinks, FakeRules with an
// iptables-save-like Save, FakeSets that refuses to destroy a set a rule
// matches). The tests walk a connection's first packet through the rules
// the fakes hold (nateval_test.go) to say whether it is masqueraded. Tests assert on the fakes' state and count
// their writes. The root tests run the real CheckKernel and the real
// cleanup inside a namespace they create and remove.
package ipvs
