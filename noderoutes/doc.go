// Package noderoutes lets pods on different nodes reach each other. It
// computes what the kernel should hold from the Node objects
// (spec.podCIDRs, status.addresses, the VTEP annotation), compares it with
// what it owns there, and adds, replaces or removes only that. Two modes,
// after flannel's backends of those names:
//
//   - host-gw: a route to every other node's pod range through that node's
//     InternalIP, for nodes on one network segment. A peer whose address is
//     not on one of this node's links is reported and left unrouted.
//   - vxlan: one VXLAN device, DeviceName ("nodeagent.1": VNI 1, UDP 8472,
//     the node's InternalIP as local address, learning off, MTU 50 below
//     the link holding that address), with the network address of the
//     node's own pod range as /32. Its MAC is published on the node's own
//     Node as MACAnnotation. For each peer that has published one: a route
//     to its pod range via its range's network address, onlink, out of the
//     device; a permanent neighbour entry (that address -> the peer's MAC);
//     and an FDB entry (the peer's MAC -> the peer's InternalIP). Nodes need
//     only reach each other's InternalIPs over UDP 8472, through routers
//     if need be. IPv4 only.
//
// What it owns: routes of rtm_protocol Protocol (78) in the main table, and
// the device named DeviceName with every neighbour and FDB entry on it.
// Nothing else is touched. Every Resync (30 s) it compares again, so what
// someone removed comes back. The kernel state stays across an agent
// restart (pods keep their traffic); Cleanup (`nodeagent agent --cleanup`)
// removes the owned routes and the device, whose neighbour and FDB entries
// go with it. host-gw mode also removes a device left by vxlan mode.
package noderoutes
