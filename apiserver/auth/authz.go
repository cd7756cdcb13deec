package auth

import (
	"context"
	"fmt"
	"strings"
)

// Attributes describe one request for authorization.
type Attributes struct {
	User        *User
	Verb        string // get, list, watch, create, update, patch, delete, deletecollection
	APIGroup    string
	Resource    string
	Subresource string
	Namespace   string
	Name        string // for create: the name of the object in the body
	// ResourceRequest is false for paths such as /version or /api.
	ResourceRequest bool
	Path            string
	// FieldName is the name a list or watch selects with metadata.name=...
	FieldName string
	// ObjectNodeName is spec.nodeName of a pod being created.
	ObjectNodeName string
}

// Graph answers what the Node authorizer needs to know about pods.
type Graph interface {
	// PodNode returns the node the pod is bound to ("" if none), and
	// whether the pod exists.
	PodNode(ctx context.Context, namespace, name string) (string, bool, error)
	// Referenced reports whether a pod bound to node refers to the object
	// (resource is "secrets", "configmaps" or "persistentvolumeclaims").
	Referenced(ctx context.Context, node, resource, namespace, name string) (bool, error)
}

// Authorizer decides; the reason explains a denial.
type Authorizer struct {
	graph Graph
}

// NewAuthorizer returns an authorizer that asks graph about pods.
func NewAuthorizer(graph Graph) *Authorizer { return &Authorizer{graph: graph} }

// Authorize allows or denies a request; a denial carries the reason as
// Kubernetes words it.
func (a *Authorizer) Authorize(ctx context.Context, at Attributes) (bool, string, error) {
	if at.User.InGroup(GroupMasters) {
		return true, "", nil
	}
	if allowed, why, decided := delegationRules(at); decided {
		return allowed, denialUnless(allowed, at, why), nil
	}
	if !at.ResourceRequest {
		if discoveryPath(at.Path) {
			return true, "", nil
		}
		return false, fmt.Sprintf("User %q cannot %s path %q", at.User.Name, strings.ToLower(at.Verb), at.Path), nil
	}
	if node, ok := at.User.NodeName(); ok {
		allowed, why, err := a.node(ctx, node, at)
		if err != nil || allowed {
			return allowed, "", err
		}
		return false, denial(at, why), nil
	}
	return false, denial(at, "no rule allows it"), nil
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

func denial(at Attributes, why string) string {
	res := at.Resource
	if at.Subresource != "" {
		res += "/" + at.Subresource
	}
	scope := "at the cluster scope"
	if at.Namespace != "" {
		scope = fmt.Sprintf("in the namespace %q", at.Namespace)
	}
	return fmt.Sprintf("User %q cannot %s resource %q in API group %q %s: %s", at.User.Name, at.Verb, res, at.APIGroup, scope, why)
}
