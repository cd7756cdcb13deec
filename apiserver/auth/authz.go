package auth

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/fields"
)

// Attributes describe one request for authorization, as kube-apiserver's
// request info does.
type Attributes struct {
	User        *User
	Verb        string // get, list, watch, create, update, patch, delete, deletecollection
	APIGroup    string
	Resource    string
	Subresource string
	Namespace   string
	// Name is the name in the URL; for a list or watch, the name a
	// metadata.name=... field selector pins. A create has none.
	Name string
	// ResourceRequest is false for paths such as /version or /api.
	ResourceRequest bool
	Path            string
	// FieldName is the name a list or watch selects with metadata.name=...
	FieldName string
	// FieldSelector is the list's or watch's field selector (nodes may
	// list their own pods by spec.nodeName=<node>).
	FieldSelector fields.Requirements
}

// Graph answers what the Node authorizer needs to know: which pods are
// bound to which node, and what those pods use.
type Graph interface {
	// PodNode returns the node the pod is bound to ("" if none), and
	// whether the pod exists.
	PodNode(ctx context.Context, namespace, name string) (string, bool, error)
	// Referenced reports whether the object is one a node needs for the
	// pods bound to it, as kube's graph: a secret, configmap, claim or
	// service account a pod (not a mirror pod) names, or the
	// persistentvolume bound to such a claim.
	Referenced(ctx context.Context, node, resource, namespace, name string) (bool, error)
	// ObjectNode is the node a cluster-scoped object belongs to: a
	// volumeattachment's spec.nodeName, the node a local.nodeagent.io
	// persistentvolume lives on; "" for none, or no such object.
	ObjectNode(ctx context.Context, resource, name string) (string, error)
}

// Authorizer decides; the reason explains a denial.
type Authorizer struct {
	graph Graph
	// rbacIndex, once set, holds the roles and bindings the RBAC
	// authorizer reads after the Node authorizer (kube-apiserver's
	// --authorization-mode=Node,RBAC).
	rbacIndex *RBACIndex
}

// SetRBAC turns the RBAC authorizer on with the roles and bindings of x.
// Requests wait until x holds a full state.
func (a *Authorizer) SetRBAC(x *RBACIndex) { a.rbacIndex = x }

// NewAuthorizer returns an authorizer that asks graph about pods.
func NewAuthorizer(graph Graph) *Authorizer { return &Authorizer{graph: graph} }

// Authorize allows or denies a request; a denial carries the reason as
// Kubernetes words it.
func (a *Authorizer) Authorize(ctx context.Context, at Attributes) (bool, string, error) {
	allowed, why, err := a.Decide(ctx, at)
	if err != nil || allowed {
		return allowed, "", err
	}
	if !at.ResourceRequest {
		return false, pathDenial(at, why), nil
	}
	return false, denial(at, why), nil
}

// Decide is Authorize with the chain's own reason rather than the
// Forbidden message: what a SubjectAccessReview reports ("" where kube's
// authorizers give none).
func (a *Authorizer) Decide(ctx context.Context, at Attributes) (bool, string, error) {
	if at.User.InGroup(GroupMasters) {
		return true, "", nil
	}
	if a.rbacIndex != nil {
		if err := a.rbacIndex.WaitSynced(ctx); err != nil {
			return false, "", err
		}
	}
	if allowed, why, decided := delegationRules(at); decided {
		return allowed, why, nil
	}
	if basicUser(at) {
		return true, "", nil
	}
	if !at.ResourceRequest {
		if discoveryPath(at.Path) || (at.User.InGroup(GroupServiceAccounts) && issuerDiscoveryPath(at.Path)) {
			return true, "", nil
		}
		allowed, why := a.rbac(at)
		return allowed, why, nil
	}
	var nodeWhy string
	if node, ok := at.User.NodeName(); ok {
		allowed, why, err := a.node(ctx, node, at)
		if err != nil || allowed {
			return allowed, "", err
		}
		nodeWhy = nodeReason(why)
	}
	allowed, rbacWhy := a.rbac(at)
	return allowed, joinReasons(nodeWhy, rbacWhy), nil
}

// joinReasons joins the reasons of the authorizers of the chain as
// kube-apiserver's union authorizer does: the non-empty ones, one a line.
func joinReasons(reasons ...string) string {
	var out []string
	for _, r := range reasons {
		if r != "" {
			out = append(out, r)
		}
	}
	return strings.Join(out, "\n")
}

// pathDenial is kube-apiserver's Forbidden message for a non-resource
// path.
func pathDenial(at Attributes, why string) string {
	msg := fmt.Sprintf("User %q cannot %s path %q", at.User.Name, strings.ToLower(at.Verb), at.Path)
	if why == "" {
		return msg
	}
	return msg + ": " + why
}

// nodeReason is how kube-apiserver's authorizer chain words the Node
// authorizer's reason: prefixed with the authorizer's name.
func nodeReason(why string) string {
	if why == "" {
		return ""
	}
	return "node: " + why
}

// discoveryPath is what any authenticated user may read, as with
// Kubernetes' system:discovery and system:public-info-viewer roles.
func discoveryPath(p string) bool {
	for _, prefix := range []string{"/api", "/apis", "/version", "/openapi", "/healthz", "/livez", "/readyz"} {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true
		}
	}
	return false
}

// basicUser is kube's system:basic-user role, bound to every authenticated
// user: a SelfSubjectReview ("kubectl auth whoami").
func basicUser(at Attributes) bool {
	return at.ResourceRequest && at.Verb == "create" && at.APIGroup == "authentication.k8s.io" &&
		at.Resource == "selfsubjectreviews" && at.Subresource == "" && at.User.InGroup(GroupAuthenticated)
}

// issuerDiscoveryPath is what kube's system:service-account-issuer-discovery
// role opens, which kube binds to all service accounts.
func issuerDiscoveryPath(p string) bool {
	return p == "/.well-known/openid-configuration" || p == "/openid/v1/jwks"
}

// denial is kube-apiserver's Forbidden message; why, when given, follows
// after a colon.
func denial(at Attributes, why string) string {
	res := at.Resource
	if at.Subresource != "" {
		res += "/" + at.Subresource
	}
	scope := "at the cluster scope"
	if at.Namespace != "" {
		scope = fmt.Sprintf("in the namespace %q", at.Namespace)
	}
	msg := fmt.Sprintf("User %q cannot %s resource %q in API group %q %s", at.User.Name, at.Verb, res, at.APIGroup, scope)
	if why == "" {
		return msg
	}
	return msg + ": " + why
}
