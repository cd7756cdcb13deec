package auth

import (
	"context"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// RBACIndex holds the roles and bindings in memory, fed by a watch of the
// four resources (Set, Delete, Replace), so that authorizing reads no
// storage. A request's rules are resolved under one read lock: a request
// sees the index as it was between two changes, never halfway through one.
type RBACIndex struct {
	mu                  sync.RWMutex
	clusterRoles        map[string]*rbacv1.ClusterRole
	roles               map[string]map[string]*rbacv1.Role
	clusterRoleBindings map[string]*rbacv1.ClusterRoleBinding
	roleBindings        map[string]map[string]*rbacv1.RoleBinding
	// synced is closed once every resource had its first full state.
	synced  chan struct{}
	pending map[string]bool
}

// The resources the index holds.
const (
	ResClusterRoles        = "clusterroles"
	ResRoles               = "roles"
	ResClusterRoleBindings = "clusterrolebindings"
	ResRoleBindings        = "rolebindings"
)

// NewRBACIndex returns an empty index that is synced once Replace was
// called for each of the four resources.
func NewRBACIndex() *RBACIndex {
	return &RBACIndex{clusterRoles: map[string]*rbacv1.ClusterRole{}, roles: map[string]map[string]*rbacv1.Role{},
		clusterRoleBindings: map[string]*rbacv1.ClusterRoleBinding{}, roleBindings: map[string]map[string]*rbacv1.RoleBinding{},
		synced:  make(chan struct{}),
		pending: map[string]bool{ResClusterRoles: true, ResRoles: true, ResClusterRoleBindings: true, ResRoleBindings: true}}
}

// WaitSynced waits until the index holds a full state, or ctx ends.
func (x *RBACIndex) WaitSynced(ctx context.Context) error {
	select {
	case <-x.synced:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Synced reports whether the index holds a full state.
func (x *RBACIndex) Synced() bool {
	select {
	case <-x.synced:
		return true
	default:
		return false
	}
}

// Set adds or replaces one object (a Role, ClusterRole or binding).
func (x *RBACIndex) Set(obj runtime.Object) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.set(obj)
}

func (x *RBACIndex) set(obj runtime.Object) {
	switch o := obj.(type) {
	case *rbacv1.ClusterRole:
		x.clusterRoles[o.Name] = o
	case *rbacv1.Role:
		inner(x.roles, o.Namespace)[o.Name] = o
	case *rbacv1.ClusterRoleBinding:
		x.clusterRoleBindings[o.Name] = o
	case *rbacv1.RoleBinding:
		inner(x.roleBindings, o.Namespace)[o.Name] = o
	}
}

// Delete removes one object.
func (x *RBACIndex) Delete(obj runtime.Object) {
	x.mu.Lock()
	defer x.mu.Unlock()
	switch o := obj.(type) {
	case *rbacv1.ClusterRole:
		delete(x.clusterRoles, o.Name)
	case *rbacv1.Role:
		delete(x.roles[o.Namespace], o.Name)
	case *rbacv1.ClusterRoleBinding:
		delete(x.clusterRoleBindings, o.Name)
	case *rbacv1.RoleBinding:
		delete(x.roleBindings[o.Namespace], o.Name)
	}
}

// Replace sets the whole state of one resource (its plural name).
func (x *RBACIndex) Replace(resource string, objs []runtime.Object) {
	x.mu.Lock()
	defer x.mu.Unlock()
	switch resource {
	case ResClusterRoles:
		x.clusterRoles = map[string]*rbacv1.ClusterRole{}
	case ResRoles:
		x.roles = map[string]map[string]*rbacv1.Role{}
	case ResClusterRoleBindings:
		x.clusterRoleBindings = map[string]*rbacv1.ClusterRoleBinding{}
	case ResRoleBindings:
		x.roleBindings = map[string]map[string]*rbacv1.RoleBinding{}
	}
	for _, o := range objs {
		x.set(o)
	}
	if x.pending[resource] {
		delete(x.pending, resource)
		if len(x.pending) == 0 {
			close(x.synced)
		}
	}
}

// ClusterRoles returns the ClusterRoles (shared: read only).
func (x *RBACIndex) ClusterRoles() []*rbacv1.ClusterRole {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]*rbacv1.ClusterRole, 0, len(x.clusterRoles))
	for _, r := range x.clusterRoles {
		out = append(out, r)
	}
	return out
}

func inner[T any](m map[string]map[string]T, ns string) map[string]T {
	if m[ns] == nil {
		m[ns] = map[string]T{}
	}
	return m[ns]
}

var (
	clusterRoleGR = schema.GroupResource{Group: rbacv1.GroupName, Resource: "clusterrole"}
	roleGR        = schema.GroupResource{Group: rbacv1.GroupName, Resource: "role"}
)

// roleRules are the rules a binding's roleRef grants; a missing role is
// kube's lister error.
func (x *RBACIndex) roleRules(ref rbacv1.RoleRef, namespace string) ([]rbacv1.PolicyRule, error) {
	switch ref.Kind {
	case "ClusterRole":
		r, ok := x.clusterRoles[ref.Name]
		if !ok {
			return nil, apierrors.NewNotFound(clusterRoleGR, ref.Name)
		}
		return r.Rules, nil
	case "Role":
		r, ok := x.roles[namespace][ref.Name]
		if !ok {
			return nil, apierrors.NewNotFound(roleGR, ref.Name)
		}
		return r.Rules, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Group: rbacv1.GroupName, Resource: ref.Kind}, ref.Name)
}

// RoleRules are the rules a roleRef grants in namespace, read under the
// lock.
func (x *RBACIndex) RoleRules(ref rbacv1.RoleRef, namespace string) ([]rbacv1.PolicyRule, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.roleRules(ref, namespace)
}

// visitRules calls visit with every rule granted to u in namespace ("" for
// cluster-wide rules only), and with each binding's error, until visit
// returns false; as kube's VisitRulesFor: ClusterRoleBindings first, then
// the RoleBindings of the namespace.
func (x *RBACIndex) visitRules(u *User, namespace string, visit func(rule *rbacv1.PolicyRule, err error) bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, b := range x.clusterRoleBindings {
		if !x.visitBinding(u, "", b.Subjects, b.RoleRef, "", visit) {
			return
		}
	}
	if namespace == "" {
		return
	}
	for _, b := range x.roleBindings[namespace] {
		if !x.visitBinding(u, namespace, b.Subjects, b.RoleRef, namespace, visit) {
			return
		}
	}
}

func (x *RBACIndex) visitBinding(u *User, bindingNS string, subjects []rbacv1.Subject, ref rbacv1.RoleRef, ns string,
	visit func(*rbacv1.PolicyRule, error) bool) bool {
	if !anySubject(u, subjects, bindingNS) {
		return true
	}
	rules, err := x.roleRules(ref, ns)
	if err != nil {
		return visit(nil, err)
	}
	for i := range rules {
		if !visit(&rules[i], nil) {
			return false
		}
	}
	return true
}

func anySubject(u *User, subjects []rbacv1.Subject, bindingNS string) bool {
	for _, s := range subjects {
		if appliesTo(u, s, bindingNS) {
			return true
		}
	}
	return false
}

// RulesFor returns every rule granted to u in namespace, and the errors of
// bindings whose role is missing.
func (x *RBACIndex) RulesFor(u *User, namespace string) ([]rbacv1.PolicyRule, []error) {
	var rules []rbacv1.PolicyRule
	var errs []error
	x.visitRules(u, namespace, func(rule *rbacv1.PolicyRule, err error) bool {
		if err != nil {
			errs = append(errs, err)
		} else {
			rules = append(rules, *rule)
		}
		return true
	})
	return rules, errs
}
