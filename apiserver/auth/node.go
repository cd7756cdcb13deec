package auth

import (
	"context"
	"fmt"
)

// readVerbs are the verbs that only read.
var readVerbs = map[string]bool{"get": true, "list": true, "watch": true}

// node decides a request of the node identity for node, as Kubernetes' Node
// authorizer and NodeRestriction admission plugin do together.
func (a *Authorizer) node(ctx context.Context, node string, at Attributes) (bool, string, error) {
	switch at.APIGroup + "/" + at.Resource {
	case "/nodes":
		return a.nodeObject(node, at)
	case "coordination.k8s.io/leases":
		return nodeLease(node, at)
	case "/events", "events.k8s.io/events":
		return at.Verb == "create" || at.Verb == "update" || at.Verb == "patch", "nodes may only create and update events", nil
	case "/pods":
		return a.nodePod(ctx, node, at)
	case "/services", "discovery.k8s.io/endpointslices", "/endpoints", "/namespaces":
		return readVerbs[at.Verb] && at.Subresource == "", "nodes may only read " + at.Resource, nil
	case "/secrets", "/configmaps", "/persistentvolumeclaims":
		return a.nodeReferenced(ctx, node, at)
	case "/persistentvolumes":
		return at.Verb == "get", "nodes may only get persistentvolumes", nil
	}
	return false, fmt.Sprintf("nodes have no access to %s", at.Resource), nil
}

func (a *Authorizer) nodeObject(node string, at Attributes) (bool, string, error) {
	if readVerbs[at.Verb] {
		return true, "", nil
	}
	if at.Verb == "deletecollection" {
		return false, "nodes may not delete collections of nodes", nil
	}
	if at.Name != node {
		return false, fmt.Sprintf("node '%s' cannot modify node '%s'", node, at.Name), nil
	}
	return true, "", nil
}

func nodeLease(node string, at Attributes) (bool, string, error) {
	if at.Namespace != "kube-node-lease" {
		return false, "nodes may only use leases in kube-node-lease", nil
	}
	if at.Verb == "list" || at.Verb == "watch" || at.Verb == "deletecollection" {
		return false, "nodes may only access their own lease", nil
	}
	if at.Name != node {
		return false, fmt.Sprintf("node '%s' cannot access lease '%s'", node, at.Name), nil
	}
	return true, "", nil
}

func (a *Authorizer) nodePod(ctx context.Context, node string, at Attributes) (bool, string, error) {
	switch {
	case readVerbs[at.Verb] && (at.Subresource == "" || at.Subresource == "status"):
		return true, "", nil
	case at.Verb == "create" && at.Subresource == "":
		if at.ObjectNodeName != node {
			return false, fmt.Sprintf("node '%s' can only create pods with spec.nodeName set to itself", node), nil
		}
		return true, "", nil
	case at.Verb == "delete" && at.Subresource == "",
		(at.Verb == "update" || at.Verb == "patch") && at.Subresource == "status":
		bound, exists, err := a.graph.PodNode(ctx, at.Namespace, at.Name)
		if err != nil {
			return false, "", err
		}
		if !exists {
			return true, "", nil // the request finds nothing (404), as it should
		}
		if bound != node {
			return false, fmt.Sprintf("node '%s' can only %s pods bound to it", node, at.Verb), nil
		}
		return true, "", nil
	}
	return false, fmt.Sprintf("nodes may not %s pods/%s", at.Verb, at.Subresource), nil
}

// nodeReferenced lets a node read the secrets, configmaps and claims that
// the pods bound to it use, one by name (get, or list/watch by metadata.name).
func (a *Authorizer) nodeReferenced(ctx context.Context, node string, at Attributes) (bool, string, error) {
	name := at.Name
	if at.Verb == "list" || at.Verb == "watch" {
		name = at.FieldName
	}
	if !readVerbs[at.Verb] || name == "" || at.Namespace == "" {
		return false, fmt.Sprintf("node '%s' may only read %s by name", node, at.Resource), nil
	}
	ok, err := a.graph.Referenced(ctx, node, at.Resource, at.Namespace, name)
	if err != nil || ok {
		return ok, "", err
	}
	return false, fmt.Sprintf("no relationship found between node '%s' and this object", node), nil
}
