// Package cni attaches pods to the network through CNI plugins, with libcni.
//
// What it programs: nothing by itself. It runs the plugins of the first
// network configuration list in ConfDir (sorted by file name, as kubelet and
// containerd do). With the default list that nodeagent writes when there is
// none, that is:
//
//   - bridge "na-cni0" in the node's network namespace, a veth pair per pod
//     (the pod end is eth0), the bridge as the pods' gateway, no masquerade
//     (ipMasq false: the agent's podmasq table masquerades only what leaves
//     the cluster range; a conflist written by an older nodeagent has
//     ipMasq true, whose iptables chains CNI-<hash> masquerade all that
//     leaves the node's pod CIDR, and is kept until removed);
//   - host-local IPAM, one file per reserved address in DataDir/<network>;
//   - portmap for hostPort (iptables chains CNI-HOSTPORT-*, CNI-DN-*);
//   - loopback, which brings lo up in the pod.
//
// Names: the network is "nodeagent"; libcni's cache of results lives in
// CacheDir, one file per attachment.
//
// Cleanup: Del runs the plugins in reverse with the cached result, which frees
// the address, removes the veth and the iptables rules, and drops the cache
// entry. It also works when the pod's namespace is already gone.
//
// Where plugins run: in the namespace of the calling process, or, when
// Config.HostNetNS is set, inside that namespace on a throwaway thread (so a
// test in the host namespace can attach pods of a lab node).
package cni
