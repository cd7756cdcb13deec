// Package admission holds the admission rules kube-apiserver applies to
// writes that nodeagent must apply the same way: the NodeRestriction plugin
// (what a node may write, given the object and the stored one), the
// ServiceAccount plugin (a pod's account and its kube-api-access volume;
// mirror pods get nothing and may name none), DefaultStorageClass and the
// claim rules. Each rule is a function of
// the request's attributes; a refusal is kube's 403 (or 404) with kube's
// message. The server calls them after defaulting and before validation,
// where kube runs its mutating admission.
package admission

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Operation is the kind of write.
type Operation string

// The operations admission sees.
const (
	Create Operation = "CREATE"
	Update Operation = "UPDATE"
	Delete Operation = "DELETE"
)

// Attributes describe one write.
type Attributes struct {
	Operation   Operation
	Resource    schema.GroupResource
	Subresource string
	Namespace   string
	// Name is the name in the URL; a create is named by its object.
	Name string
	// Object is the new object (create, update).
	Object runtime.Object
	// Old is the stored object (update, delete).
	Old runtime.Object
}

// Nodes looks up a Node; a missing one is an apierrors NotFound.
type Nodes interface {
	Node(ctx context.Context, name string) (*corev1.Node, error)
}

var (
	podsResource    = schema.GroupResource{Resource: "pods"}
	nodesResource   = schema.GroupResource{Resource: "nodes"}
	claimsResource  = schema.GroupResource{Resource: "persistentvolumeclaims"}
	volumesResource = schema.GroupResource{Resource: "persistentvolumes"}
	leasesResource  = schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}
)

// name is the name admission reports: the URL's, else the object's.
func (a Attributes) name() string {
	if a.Name != "" {
		return a.Name
	}
	for _, obj := range []runtime.Object{a.Object, a.Old} {
		if m, err := meta.Accessor(obj); obj != nil && err == nil {
			return m.GetName()
		}
	}
	return ""
}

// forbidden is kube's admission.NewForbidden: 403 on the resource and name.
func forbidden(a Attributes, err error) error {
	if apierrors.IsForbidden(err) {
		return err
	}
	return apierrors.NewForbidden(a.Resource, a.name(), err)
}
