package apiserver

import (
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/apiserver/auth"
)

// fullAuthority is every rule: what it takes to use an aggregationRule.
var fullAuthority = []rbacv1.PolicyRule{
	{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
	{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}},
}

// rbacEscalation is kube's RBAC registry's escalation prevention, on a
// create (old nil) or update of a role or binding: a role may grant only
// rules its writer holds in its namespace (or the writer may "escalate"
// it); a binding may bind only a role whose rules its writer holds (or
// the writer may "bind" that role). system:masters is never refused. An
// update that changes only what the garbage collector changes passes.
func (s *Server) rbacEscalation(q *request, obj, old runtime.Object) error {
	if q.info.group != rbacV1.Group || q.user.InGroup(auth.GroupMasters) || (old != nil && onlyGCFields(obj, old)) {
		return nil
	}
	var err error
	switch o := obj.(type) {
	case *rbacv1.Role:
		err = s.roleEscalation(q, o.Namespace, o.Rules)
	case *rbacv1.ClusterRole:
		err = s.clusterRoleEscalation(q, o)
	case *rbacv1.RoleBinding:
		err = s.bindEscalation(q, o.Namespace, o.RoleRef)
	case *rbacv1.ClusterRoleBinding:
		err = s.bindEscalation(q, "", o.RoleRef)
	}
	if err != nil {
		m, _ := meta.Accessor(obj)
		return apierrors.NewForbidden(q.gr(), m.GetName(), err)
	}
	return nil
}

func (s *Server) clusterRoleEscalation(q *request, r *rbacv1.ClusterRole) error {
	if s.allowed(q, auth.Attributes{Verb: "escalate", APIGroup: rbacV1.Group, Resource: q.info.resource, Name: q.info.name}) {
		return nil
	}
	if r.AggregationRule != nil {
		if s.rbac.ConfirmNoEscalation(q.user, "", fullAuthority) != nil {
			return errorString("must have cluster-admin privileges to use the aggregationRule")
		}
	}
	return s.rbac.ConfirmNoEscalation(q.user, "", r.Rules)
}

func (s *Server) roleEscalation(q *request, namespace string, rules []rbacv1.PolicyRule) error {
	if s.allowed(q, auth.Attributes{Verb: "escalate", APIGroup: rbacV1.Group, Resource: q.info.resource, Namespace: namespace, Name: q.info.name}) {
		return nil
	}
	return s.rbac.ConfirmNoEscalation(q.user, namespace, rules)
}

// bindEscalation: namespace is the binding's ("" for a
// ClusterRoleBinding), where the "bind" verb is asked and the role's rules
// must be held.
func (s *Server) bindEscalation(q *request, namespace string, ref rbacv1.RoleRef) error {
	resource := map[string]string{"Role": "roles", "ClusterRole": "clusterroles"}[ref.Kind]
	if resource != "" && s.allowed(q, auth.Attributes{Verb: "bind", APIGroup: ref.APIGroup, Resource: resource, Namespace: namespace, Name: ref.Name}) {
		return nil
	}
	rules, err := s.rbac.RoleRules(ref, namespace)
	if err != nil {
		return err
	}
	return s.rbac.ConfirmNoEscalation(q.user, namespace, rules)
}

// allowed asks the authorizer about at, a resource request of q's user.
func (s *Server) allowed(q *request, at auth.Attributes) bool {
	at.User, at.ResourceRequest = q.user, true
	ok, _, err := s.authz.Authorize(q.ctx, at)
	return ok && err == nil
}

// onlyGCFields reports whether obj differs from old in nothing but what
// the garbage collector changes (owner references, finalizers), as kube's
// IsOnlyMutatingGCFields.
func onlyGCFields(obj, old runtime.Object) bool {
	a, b := obj.DeepCopyObject(), old.DeepCopyObject()
	for _, o := range []runtime.Object{a, b} {
		m, err := meta.Accessor(o)
		if err != nil {
			return false
		}
		m.SetOwnerReferences(nil)
		m.SetFinalizers(nil)
		m.SetResourceVersion("")
		m.SetManagedFields(nil)
	}
	return equality.Semantic.DeepEqual(a, b)
}
