package apiserver

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/api/defaults"
	"github.com/nodeagent/nodeagent/apiserver/admission"
)

// admit runs the admission rules kube runs on a write (apiserver/admission):
// the ServiceAccount plugin (mirror pod rules; a pod's account and its
// kube-api-access volume), DefaultTolerationSeconds, DefaultStorageClass,
// StorageObjectInUseProtection, PersistentVolumeClaimResize and Priority
// for everyone, NodeRestriction for a node. obj is the new object (create, update), old the stored one
// (update, delete). It runs where kube's mutating admission runs: after
// defaulting, before validation; on an update, on the object the client
// sent, before the status or spec of the stored one is carried over.
func (s *Server) admit(q *request, op admission.Operation, obj, old runtime.Object) error {
	a := admission.Attributes{Operation: op, Resource: q.gr(), Subresource: q.info.subresource,
		Namespace: q.info.namespace, Name: q.info.name, Object: obj, Old: old}
	if err := admission.MirrorPod(a); err != nil {
		return err
	}
	if err := s.admitCSR(q, obj, old); err != nil {
		return err
	}
	if pod, ok := obj.(*corev1.Pod); ok && op == admission.Create && q.info.subresource == "" {
		defaults.PodAdmitted(pod)
	}
	if err := s.serviceAccountAdmission().Admit(q.ctx, a); err != nil {
		return err
	}
	if err := admission.DefaultStorageClass(q.ctx, a, classLister{s}); err != nil {
		return err
	}
	admission.StorageObjectInUseProtection(a)
	if err := admission.PersistentVolumeClaimResize(q.ctx, a, classLister{s}); err != nil {
		return err
	}
	if err := admission.Priority(q.ctx, a, priorityClassLister{s}); err != nil {
		return err
	}
	if node, ok := q.user.NodeName(); ok {
		return admission.NodeRestriction(q.ctx, node, a, nodeLookup{s})
	}
	return nil
}

// nodeLookup reads Nodes from storage for admission.
type nodeLookup struct{ s *Server }

func (l nodeLookup) Node(ctx context.Context, name string) (*corev1.Node, error) {
	res, _ := l.s.reg.lookup("", "v1", "nodes")
	obj, err := l.s.store(res).Get(ctx, "", name)
	if err != nil {
		return nil, statusError(err, res.groupResource(), name)
	}
	return obj.(*corev1.Node), nil
}
