package apiserver

import (
	"context"
	"slices"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// resource describes one served resource: its names, its Go types and the
// strategy (defaulting, validation, selectable fields) that applies to it.
type resource struct {
	gvk        schema.GroupVersionKind
	plural     string
	singular   string
	shortNames []string
	categories []string
	namespaced bool
	// subresources beyond the object itself: "status", "binding", "log".
	subresources []string
	// verbs are the verbs the object itself serves; nil: objectVerbs.
	verbs    metav1.Verbs
	newObj   func() runtime.Object
	newList  func() runtime.Object
	strategy strategy
	// fieldLabels are the fields a fieldSelector may name, besides
	// metadata.name and metadata.namespace; fieldSet extracts them.
	fieldLabels []string
	fieldSet    func(obj runtime.Object) fields.Set
	// virtual resources are not stored: a create is answered by a review
	// (TokenReview, SubjectAccessReview), every other verb is 405.
	virtual bool
	// custom: a custom resource, served from a CustomResourceDefinition.
	custom *customInfo
}

// strategy is what differs between resources on create and update.
type strategy struct {
	// defaults fills in defaults in place.
	defaults func(obj runtime.Object)
	// validate checks a new object.
	validate func(obj runtime.Object) field.ErrorList
	// validateUpdate checks an update of the object (old is the stored one).
	validateUpdate func(obj, old runtime.Object) field.ErrorList
	// prepareCreate resets what a client may not set on create (status).
	prepareCreate func(obj runtime.Object)
	// hasStatus: the main resource ignores status changes and the status
	// subresource ignores everything but status.
	hasStatus bool
	// keepSpec copies everything but status from old into obj (status update).
	keepSpec func(obj, old runtime.Object)
	// keepStatus copies status from old into obj (main resource update).
	keepStatus func(obj, old runtime.Object)
	// prepareStatusUpdate keeps, on a status update, the metadata kube's
	// status strategy of the resource keeps (pods: ownerReferences).
	prepareStatusUpdate func(obj, old runtime.Object)
	// prepareApprovalUpdate keeps, on an update of the approval
	// subresource (CSRs), everything but the approval.
	prepareApprovalUpdate func(obj, old runtime.Object)
	// specChanged reports whether an update changes the spec (generation).
	specChanged func(obj, old runtime.Object) bool
	// prepareUpdate adjusts an update of the object before defaulting (the
	// services keep allocated values the client left out).
	prepareUpdate func(obj, old runtime.Object)
	// assign runs after validation, on create (old nil) and update of the
	// object itself: the services get their cluster IP and node ports. The
	// store's Linked plan writes what it decided with the object.
	assign func(ctx context.Context, obj, old runtime.Object) error
}

func (r *resource) groupVersion() schema.GroupVersion { return r.gvk.GroupVersion() }

func (r *resource) groupResource() schema.GroupResource {
	return schema.GroupResource{Group: r.gvk.Group, Resource: r.plural}
}

// objectVerbs are the verbs a resource serves unless it says otherwise.
var objectVerbs = metav1.Verbs{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}

// subresourceVerbs are the verbs of each subresource nodeagent serves.
var subresourceVerbs = map[string]metav1.Verbs{
	"status":   {"get", "patch", "update"},
	"binding":  {"create"},
	"log":      {"get"},
	"finalize": {"update"},
	// Upgraded connections: SPDY posts, WebSocket gets.
	"exec":        {"create", "get"},
	"attach":      {"create", "get"},
	"portforward": {"create", "get"},
	"token":       {"create"},
	"scale":       {"get", "patch", "update"},
	"approval":    {"get", "patch", "update"},
}

// objectVerbs are the verbs the object itself serves.
func (r *resource) objectVerbs() metav1.Verbs {
	if r.verbs != nil {
		return r.verbs
	}
	return objectVerbs
}

// allowsVerb reports whether the object, or its subresource sub, serves
// verb: DELETE of pods/x/status is 405, not a delete of the pod.
func (r *resource) allowsVerb(sub, verb string) bool {
	if sub == "" {
		return slices.Contains(r.objectVerbs(), verb)
	}
	return r.hasSubresource(sub) && slices.Contains(subresourceVerbs[sub], verb)
}

func (r *resource) hasSubresource(s string) bool {
	for _, x := range r.subresources {
		if x == s {
			return true
		}
	}
	return false
}

// registry is the set of served resources, by group/version/plural.
type registry struct {
	list  []*resource
	index map[schema.GroupVersionResource]*resource
}

func newRegistry(rs []*resource) *registry {
	reg := &registry{list: rs, index: map[schema.GroupVersionResource]*resource{}}
	for _, r := range rs {
		reg.index[r.gvk.GroupVersion().WithResource(r.plural)] = r
	}
	return reg
}

func (reg *registry) lookup(group, version, plural string) (*resource, bool) {
	r, ok := reg.index[schema.GroupVersionResource{Group: group, Version: version, Resource: plural}]
	return r, ok
}

// groupVersions lists the served group versions in a stable order, the core
// group first.
func (reg *registry) groupVersions() []schema.GroupVersion {
	var out []schema.GroupVersion
	seen := map[schema.GroupVersion]bool{}
	for _, r := range reg.list {
		if gv := r.groupVersion(); !seen[gv] {
			seen[gv] = true
			out = append(out, gv)
		}
	}
	return out
}

func (reg *registry) inGroupVersion(gv schema.GroupVersion) []*resource {
	var out []*resource
	for _, r := range reg.list {
		if r.groupVersion() == gv {
			out = append(out, r)
		}
	}
	return out
}

var (
	coreV1         = corev1.SchemeGroupVersion
	discoveryV1    = discoveryv1.SchemeGroupVersion
	coordinationV1 = coordinationv1.SchemeGroupVersion
)
