package garbagecollector

import (
	"fmt"
	"slices"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// node is one object the informers have shown.
type node struct {
	res        resource
	namespace  string
	name       string
	uid        types.UID
	owners     []metav1.OwnerReference
	deleting   bool // has a deletionTimestamp
	orphan     bool // being deleted with the "orphan" finalizer
	foreground bool // being deleted with the "foregroundDeletion" finalizer
}

func newNode(res resource, obj metav1.Object) *node {
	deleting := obj.GetDeletionTimestamp() != nil
	fin := obj.GetFinalizers()
	return &node{res: res, namespace: obj.GetNamespace(), name: obj.GetName(), uid: obj.GetUID(),
		owners: obj.GetOwnerReferences(), deleting: deleting,
		orphan:     deleting && slices.Contains(fin, metav1.FinalizerOrphanDependents),
		foreground: deleting && slices.Contains(fin, metav1.FinalizerDeleteDependents)}
}

func (n *node) String() string {
	return fmt.Sprintf("%s %s/%s (%s)", n.res.kind, n.namespace, n.name, n.uid)
}

// graph is every object by UID and, for each owner UID (present or not),
// the UIDs of the objects that name it.
type graph struct {
	mu         sync.Mutex
	nodes      map[types.UID]*node
	dependents map[types.UID]map[types.UID]struct{}
}

func newGraph() *graph {
	return &graph{nodes: map[types.UID]*node{}, dependents: map[types.UID]map[types.UID]struct{}{}}
}

func (g *graph) get(uid types.UID) *node {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.nodes[uid]
}

// upsert records n and returns what it replaced (nil if it is new).
func (g *graph) upsert(n *node) *node {
	g.mu.Lock()
	defer g.mu.Unlock()
	old := g.nodes[n.uid]
	if old != nil {
		g.unlinkLocked(old)
	}
	g.nodes[n.uid] = n
	for _, ref := range n.owners {
		deps := g.dependents[ref.UID]
		if deps == nil {
			deps = map[types.UID]struct{}{}
			g.dependents[ref.UID] = deps
		}
		deps[n.uid] = struct{}{}
	}
	return old
}

// remove forgets the object uid and returns it (nil if it was not known).
func (g *graph) remove(uid types.UID) *node {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.nodes[uid]
	if n != nil {
		g.unlinkLocked(n)
		delete(g.nodes, uid)
	}
	return n
}

func (g *graph) unlinkLocked(n *node) {
	for _, ref := range n.owners {
		delete(g.dependents[ref.UID], n.uid)
		if len(g.dependents[ref.UID]) == 0 {
			delete(g.dependents, ref.UID)
		}
	}
}

// dependentsOf are the known objects that name uid as an owner.
func (g *graph) dependentsOf(uid types.UID) []*node {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []*node
	for dep := range g.dependents[uid] {
		if n := g.nodes[dep]; n != nil {
			out = append(out, n)
		}
	}
	return out
}

// all is every known object.
func (g *graph) all() []*node {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]*node, 0, len(g.nodes))
	for _, n := range g.nodes {
		out = append(out, n)
	}
	return out
}

// suspect tells whether n needs its owners checked: one is not in the
// graph, is in another namespace, or is deleting its dependents.
func (g *graph) suspect(n *node) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, ref := range n.owners {
		o := g.nodes[ref.UID]
		if o == nil || o.foreground || badNamespace(n, o) {
			return true
		}
	}
	return false
}

// badNamespace tells whether dependent names owner across namespaces: a
// namespaced owner is only ever in its dependent's namespace.
func badNamespace(dependent, owner *node) bool {
	return owner.res.namespaced && owner.namespace != dependent.namespace
}

// misplaced are the pairs (dependent, its ownerReference) of n's that name
// an owner seen in another namespace, n as a dependent or as an owner.
func (g *graph) misplaced(n *node) []misplacedRef {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []misplacedRef
	for _, ref := range n.owners {
		if o := g.nodes[ref.UID]; o != nil && badNamespace(n, o) {
			out = append(out, misplacedRef{n, ref})
		}
	}
	for dep := range g.dependents[n.uid] {
		d := g.nodes[dep]
		if d == nil || !badNamespace(d, n) {
			continue
		}
		for _, ref := range d.owners {
			if ref.UID == n.uid {
				out = append(out, misplacedRef{d, ref})
			}
		}
	}
	return out
}

type misplacedRef struct {
	dependent *node
	ref       metav1.OwnerReference
}

// metadataOnly is the informers' transform: the collector needs only
// what identifies an object and its deletion state, so its caches keep
// no spec, status, labels, annotations or managedFields, and keep what is
// left in a typed PartialObjectMetadata rather than in nested maps (at
// 10,000 pods, ~4 MB against ~15 MB as unstructured).
func metadataOnly(obj any) (any, error) {
	var m interface {
		metav1.Object
		GetObjectKind() schema.ObjectKind
	}
	switch o := obj.(type) {
	case *unstructured.Unstructured:
		m = o
	case *metav1.PartialObjectMetadata:
		m = o
	default:
		return obj, nil // a tombstone, or what the collector does not read
	}
	apiVersion, kind := m.GetObjectKind().GroupVersionKind().ToAPIVersionAndKind()
	return &metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{APIVersion: apiVersion, Kind: kind},
		ObjectMeta: metav1.ObjectMeta{
			Namespace:         m.GetNamespace(),
			Name:              m.GetName(),
			UID:               m.GetUID(),
			ResourceVersion:   m.GetResourceVersion(),
			OwnerReferences:   m.GetOwnerReferences(),
			Finalizers:        m.GetFinalizers(),
			DeletionTimestamp: m.GetDeletionTimestamp(),
		},
	}, nil
}
