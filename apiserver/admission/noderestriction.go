package admission

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/nodeagent/nodeagent/api/podrefs"
)

// NodeRestriction is kube's NodeRestriction admission plugin for a request
// of node: a node creates only mirror pods of its own, bound to it, owned
// by its Node and naming no other API object; it deletes, and writes the
// status of, only pods bound to it; it writes only its own Node, without
// touching its taints or the labels kube reserves; it creates only its own
// Lease; it updates only the status of a claim, and nothing else in it; of
// a local volume on it, only the backing-file finalizer.
func NodeRestriction(ctx context.Context, node string, a Attributes, nodes Nodes) error {
	switch a.Resource {
	case podsResource:
		return admitPod(ctx, node, a, nodes)
	case nodesResource:
		return admitNode(node, a)
	case claimsResource:
		if a.Subresource != "status" {
			return forbidden(a, errors.New("may only update PVC status"))
		}
		return admitClaimStatus(node, a)
	case leasesResource:
		return admitLease(node, a)
	case volumesResource:
		return admitVolume(node, a)
	}
	return nil
}

func admitPod(ctx context.Context, node string, a Attributes, nodes Nodes) error {
	switch a.Subresource {
	case "":
	case "status":
		return admitPodStatus(node, a)
	case "eviction":
		return admitPodBound(node, a, "node %s can only evict pods with spec.nodeName set to itself")
	default:
		return forbidden(a, fmt.Errorf("unexpected pod subresource %q, only 'status' and 'eviction' are allowed", a.Subresource))
	}
	switch a.Operation {
	case Create:
		return admitPodCreate(ctx, node, a, nodes)
	case Delete:
		return admitPodBound(node, a, "node %q can only delete pods with spec.nodeName set to itself")
	}
	return forbidden(a, fmt.Errorf("unexpected operation %q, node %q can only create and delete mirror pods", a.Operation, node))
}

// admitPodBound lets the node act on a stored pod bound to it.
func admitPodBound(node string, a Attributes, msg string) error {
	pod, ok := a.Old.(*corev1.Pod)
	if !ok {
		return forbidden(a, fmt.Errorf("unexpected type %T", a.Old))
	}
	if pod.Spec.NodeName != node {
		return forbidden(a, fmt.Errorf(msg, node))
	}
	return nil
}

func admitPodCreate(ctx context.Context, node string, a Attributes, nodes Nodes) error {
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return forbidden(a, fmt.Errorf("unexpected type %T", a.Object))
	}
	if !podrefs.IsMirror(pod) {
		return forbidden(a, fmt.Errorf("pod does not have %q annotation, node %q can only create mirror pods", podrefs.MirrorAnnotation, node))
	}
	if pod.Spec.NodeName != node {
		return forbidden(a, fmt.Errorf("node %q can only create pods with spec.nodeName set to itself", node))
	}
	if err := ownedByNode(ctx, node, pod, nodes); err != nil {
		if apierrors.IsNotFound(err) {
			return err
		}
		return forbidden(a, err)
	}
	res, err := podrefs.APIObjectReference(pod)
	if err != nil {
		return forbidden(a, err)
	}
	if res != "" {
		return forbidden(a, fmt.Errorf("node %q can not create pods that reference %s", node, res))
	}
	return nil
}

// ownedByNode: exactly one owner reference, to the node's own Node (by
// name and UID), as controller and not blocking its owner's deletion.
func ownedByNode(ctx context.Context, node string, pod *corev1.Pod, nodes Nodes) error {
	switch len(pod.OwnerReferences) {
	case 0:
		return fmt.Errorf("node %q can only create pods with an owner reference set to itself", node)
	case 1:
	default:
		return fmt.Errorf("node %q can only create pods with a single owner reference set to itself", node)
	}
	owner := pod.OwnerReferences[0]
	switch {
	case owner.APIVersion != "v1" || owner.Kind != "Node" || owner.Name != node:
		return fmt.Errorf("node %q can only create pods with an owner reference set to itself", node)
	case owner.Controller == nil || !*owner.Controller:
		return fmt.Errorf("node %q can only create pods with a controller owner reference set to itself", node)
	case owner.BlockOwnerDeletion != nil && *owner.BlockOwnerDeletion:
		return fmt.Errorf("node %q must not set blockOwnerDeletion on an owner reference", node)
	}
	n, err := nodes.Node(ctx, node)
	if apierrors.IsNotFound(err) {
		return err
	}
	if err != nil {
		return fmt.Errorf("error looking up node %s to verify uid: %w", node, err)
	}
	if owner.UID != n.UID {
		return fmt.Errorf("node %s UID mismatch: expected %s got %s", node, owner.UID, n.UID)
	}
	return nil
}

// admitPodStatus: the status of a pod bound to the node, without label or
// resource claim changes.
func admitPodStatus(node string, a Attributes) error {
	if a.Operation != Update {
		return forbidden(a, fmt.Errorf("unexpected operation %q", a.Operation))
	}
	if err := admitPodBound(node, a, "node %q can only update pod status for pods with spec.nodeName set to itself"); err != nil {
		return err
	}
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return forbidden(a, fmt.Errorf("unexpected type %T", a.Object))
	}
	old := a.Old.(*corev1.Pod)
	if !labels.Equals(pod.Labels, old.Labels) {
		return forbidden(a, fmt.Errorf("node %q cannot update labels through pod status", node))
	}
	if !claimStatusesEqual(pod.Status.ResourceClaimStatuses, old.Status.ResourceClaimStatuses) {
		return forbidden(a, fmt.Errorf("node %q cannot update resource claim statues", node))
	}
	return nil
}

// claimStatusesEqual compares claim statuses by name and claim name.
func claimStatusesEqual(x, y []corev1.PodResourceClaimStatus) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i].Name != y[i].Name || !equality.Semantic.DeepEqual(x[i].ResourceClaimName, y[i].ResourceClaimName) {
			return false
		}
	}
	return true
}

// admitClaimStatus: of a claim, a node changes only the status fields a
// volume resize writes.
func admitClaimStatus(node string, a Attributes) error {
	if a.Operation != Update {
		return forbidden(a, fmt.Errorf("unexpected operation %q", a.Operation))
	}
	claim, ok := a.Object.(*corev1.PersistentVolumeClaim)
	old, oldOK := a.Old.(*corev1.PersistentVolumeClaim)
	if !ok || !oldOK {
		return forbidden(a, fmt.Errorf("unexpected type %T", a.Object))
	}
	x, y := resizeOnly(claim), resizeOnly(old)
	if !equality.Semantic.DeepEqual(x, y) {
		return forbidden(a, fmt.Errorf("node %q is not allowed to update fields other than status.quantity and status.conditions: %v", node, cmp.Diff(y, x)))
	}
	return nil
}

// resizeOnly is a copy of the claim without what a resize may change.
func resizeOnly(c *corev1.PersistentVolumeClaim) *corev1.PersistentVolumeClaim {
	c = c.DeepCopy()
	c.ResourceVersion, c.ManagedFields = "", nil
	c.Status.Capacity, c.Status.Conditions = nil, nil
	c.Status.AllocatedResources, c.Status.AllocatedResourceStatuses = nil, nil
	return c
}

// admitLease: a node's lease is in kube-node-lease and has its name.
func admitLease(node string, a Attributes) error {
	if a.Namespace != corev1.NamespaceNodeLease {
		return forbidden(a, fmt.Errorf("can only access leases in the %q system namespace", corev1.NamespaceNodeLease))
	}
	if a.name() != node {
		return forbidden(a, errors.New("can only access node lease with the same name as the requesting node"))
	}
	return nil
}
