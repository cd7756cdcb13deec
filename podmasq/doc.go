// Package podmasq masquerades what pods send out of the cluster, and
// nothing else: traffic between pods keeps the pod's source address, on
// this node and across nodes (as kube's ip-masq-agent and flannel do). The
// default CNI network (cni.DefaultConflist) leaves masquerading to it.
//
// What it programs: one nftables table of its own, inet nodeagent-podmasq,
// with one chain, postrouting (type nat, hook postrouting, priority
// srcnat), and per cluster range C one rule:
//
//	ip saddr C ip daddr != { C, 224.0.0.0/4 } masquerade
//
// (ip6 and ff00::/8 for an IPv6 range). Every Sync replaces the chain's
// rules whole, so a Sync now and then repairs them. It sits beside the
// service proxy's tables (or, with iptables-nft, its iptables chains) in
// nf_tables; no other table is read or written.
//
// Cleanup deletes the table; one that is not there is not an error.
package podmasq
