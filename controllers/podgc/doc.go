// Package podgc is kube-controller-manager's pod garbage collector. Every
// period (kube's 20s) it
//
//   - deletes the oldest terminated pods (Succeeded or Failed, evicted ones
//     first) above the threshold (--terminated-pod-gc-threshold, kube's
//     12500; 0 turns this off);
//   - force-deletes terminating pods on a node that is not Ready and has
//     the node.kubernetes.io/out-of-service taint;
//   - force-deletes pods bound to a node that no longer exists, once the
//     node has been missing for the quarantine (kube's 40s) and a live GET
//     confirms it, marking them Failed with the DisruptionTarget condition
//     (DeletionByPodGC) first;
//   - force-deletes terminating pods that were never scheduled.
//
// A pod that is not terminal yet is marked Failed before it is deleted, as
// kube does (no kubelet is left to do it). Deletes carry the pod's UID as
// a precondition so that a new pod of the same name is never removed.
package podgc
