// Package garbagecollector is kube-controller-manager's garbage collector
// for ownerReferences: it watches every served resource that can be
// listed, watched and deleted (found by discovery, looked for again every
// period), keeps a graph of owners and their dependents, and
//
//   - deletes, in the background, a dependent whose owners are all absent
//     (by UID: a same-named object with another UID counts as absent), each
//     absence verified with a live GET first;
//   - for an owner being deleted in the foreground (the "foregroundDeletion"
//     finalizer) deletes its dependents, in the foreground those that have
//     dependents of their own, and removes the finalizer once no dependent
//     that blocks its owner's deletion (blockOwnerDeletion) is left (a
//     dependent whose own dependent also waits stops blocking its owners
//     before it is deleted, so that a cycle cannot wait for ever);
//   - for an owner being deleted with the "orphan" finalizer removes the
//     dependents' ownerReferences to it, then the finalizer.
//
// A namespaced dependent's owner is looked for in the dependent's
// namespace only: an owner seen in another namespace is reported with the
// OwnerRefInvalidNamespace event and counts as absent once the GET has
// said so. A cluster-scoped object that names a namespaced owner is left
// alone, as kube does. Events (core and events.k8s.io) are not watched.
//
// The API server side (the finalizers a delete with propagationPolicy
// Orphan or Foreground sets) is in apiserver/delete_propagation.go.
package garbagecollector
