// Package replicaset keeps ReplicaSets' pods, as kube-controller-manager's
// replicaset controller does.
//
// For each ReplicaSet the controller claims the active pods of its
// namespace (not Succeeded or Failed, not being deleted) with kube's
// ControllerRef rules (controllers/internal/claim): it owns the pods whose
// controller reference carries its UID and that its selector matches,
// adopts matching orphans (after re-reading itself from the API server, so
// a recreated ReplicaSet never adopts for its predecessor) and releases
// owned pods its selector no longer matches, each with a strategic merge
// patch of ownerReferences.
//
// It then creates pods from the template (generateName "<rs>-", the
// template's labels, annotations and spec, the ReplicaSet as controller
// with blockOwnerDeletion) or deletes the surplus in kube's order
// (PodsToDelete), at most BurstReplicas in one sync, creating in
// slow-start batches of 1, 2, 4... that stop at the first failure. Events
// SuccessfulCreate, FailedCreate, SuccessfulDelete and FailedDelete carry
// kube's messages. Expectations (the creates and deletes issued and not
// yet seen by the informer, for at most five minutes) hold further
// creating and deleting back, so a lagging cache does not double them.
//
// The status counts the active owned pods (replicas), those carrying the
// template's labels, the ready ones and the available ones (ready for
// minReadySeconds; the key is queued again when that time has passed), and
// holds a ReplicaFailure condition (reason FailedCreate or FailedDelete)
// while creating or deleting fails. Pods are not deleted when their
// ReplicaSet is: nodeagent's garbage collector does that.
package replicaset
