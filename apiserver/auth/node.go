package auth

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/selection"
)

// The Node authorizer, as kube-apiserver 1.37 runs it (AuthorizeNodeWithSelectors
// on): reads of secrets, configmaps, claims, volumes and pods go through the
// graph of what the node's pods use; a node reads only its own Node; its
// writes of pods, nodes and leases are allowed here and narrowed by the
// NodeRestriction admission (apiserver/admission), which sees the objects.
// Anything else falls to nodeRules, kube's system:node rules. A denial's
// reason is kube's; "" where kube gives none.

// node decides a request of the node identity for node.
func (a *Authorizer) node(ctx context.Context, node string, at Attributes) (bool, string, error) {
	switch at.APIGroup + "/" + at.Resource {
	case "/secrets", "/configmaps":
		return a.readNamespacedObject(ctx, node, at)
	case "/persistentvolumeclaims":
		if at.Subresource == "status" {
			return a.statusUpdate(ctx, node, at)
		}
		return a.getReferenced(ctx, node, at)
	case "/persistentvolumes":
		return a.nodeVolume(ctx, node, at)
	case "storage.k8s.io/volumeattachments":
		return a.nodeAttachment(ctx, node, at)
	case "storage.k8s.io/csidrivers":
		return at.Subresource == "" && readVerbs[at.Verb], "", nil
	case "/serviceaccounts":
		return a.createToken(ctx, node, at)
	case "coordination.k8s.io/leases":
		return nodeLease(node, at)
	case "/nodes":
		return nodeObject(node, at)
	case "/pods":
		return a.nodePod(ctx, node, at)
	}
	return nodeRules(at), "", nil
}

// readVerbs are the verbs that only read.
var readVerbs = map[string]bool{"get": true, "list": true, "watch": true}

// writeVerbs are what a node may do to events.
var writeVerbs = map[string]bool{"create": true, "update": true, "patch": true}

// nodeRules are kube's static system:node rules for what the graph does not
// subdivide, among what nodeagent serves: read services, get endpoints
// (kube keeps that rule for volume plugins; a node neither lists, watches
// nor writes them), write events, create and read certificate signing
// requests (its client certificate's renewal). The service proxy runs with its node's
// credentials (kube-proxy has a role of its own for this), so a node also
// reads EndpointSlices.
func nodeRules(at Attributes) bool {
	if at.Subresource != "" {
		return false
	}
	switch at.APIGroup + "/" + at.Resource {
	case "/services", "discovery.k8s.io/endpointslices":
		return readVerbs[at.Verb]
	case "/endpoints":
		return at.Verb == "get"
	case "/events", "events.k8s.io/events":
		return writeVerbs[at.Verb]
	case "certificates.k8s.io/certificatesigningrequests":
		// kube's rule for the kubelet's own certificate requests.
		return at.Verb == "create" || readVerbs[at.Verb]
	}
	return false
}

// nodeVolume: a node gets a volume its pods use (kube's graph) and, for
// nodeagent's local volumes, gets and updates the volumes that live on it:
// its agent keeps the backing-file finalizer of those (what may change is
// narrowed by admission).
func (a *Authorizer) nodeVolume(ctx context.Context, node string, at Attributes) (bool, string, error) {
	if at.Subresource == "" && (at.Verb == "get" || at.Verb == "update" || at.Verb == "patch") && at.Name != "" {
		home, err := a.graph.ObjectNode(ctx, at.Resource, at.Name)
		if err != nil || home == node {
			return home == node, "", err
		}
	}
	if at.Verb == "update" || at.Verb == "patch" {
		if at.Subresource != "" {
			return false, "cannot get subresource", nil
		}
		return false, noRelationship(node), nil
	}
	return a.getReferenced(ctx, node, at)
}

// nodeAttachment: a node gets the VolumeAttachments of its own node.
func (a *Authorizer) nodeAttachment(ctx context.Context, node string, at Attributes) (bool, string, error) {
	switch {
	case at.Verb != "get":
		return false, "can only get individual resources of this type", nil
	case at.Subresource != "":
		return false, "cannot get subresource", nil
	case at.Name == "":
		return false, "No Object name found", nil
	}
	home, err := a.graph.ObjectNode(ctx, at.Resource, at.Name)
	if err != nil || home == node {
		return home == node, "", err
	}
	return false, noRelationship(node), nil
}

// readNamespacedObject lets a node get, list or watch one secret or
// configmap (by name, or by metadata.name) that one of its pods uses.
func (a *Authorizer) readNamespacedObject(ctx context.Context, node string, at Attributes) (bool, string, error) {
	switch {
	case !readVerbs[at.Verb]:
		return false, "can only read resources of this type", nil
	case at.Subresource != "":
		return false, "cannot read subresource", nil
	case at.Namespace == "":
		return false, "can only read namespaced object of this type", nil
	}
	return a.related(ctx, node, at)
}

// getReferenced lets a node get one claim or volume its pods use.
func (a *Authorizer) getReferenced(ctx context.Context, node string, at Attributes) (bool, string, error) {
	switch {
	case at.Verb != "get":
		return false, "can only get individual resources of this type", nil
	case at.Subresource != "":
		return false, "cannot get subresource", nil
	}
	return a.related(ctx, node, at)
}

// statusUpdate lets a node update the status of a claim its pods use.
func (a *Authorizer) statusUpdate(ctx context.Context, node string, at Attributes) (bool, string, error) {
	if at.Verb != "update" && at.Verb != "patch" {
		return false, "can only get/update/patch this type", nil
	}
	return a.related(ctx, node, at)
}

// createToken: a node creates tokens (serviceaccounts/token) of its pods'
// service accounts; admission (NodeTokenRequest) then requires them bound
// to one of its pods.
func (a *Authorizer) createToken(ctx context.Context, node string, at Attributes) (bool, string, error) {
	switch {
	case at.Verb != "create" || at.Name == "":
		return false, "can only create tokens for individual service accounts", nil
	case at.Subresource != "token":
		return false, "can only create token subresource of serviceaccount", nil
	}
	return a.related(ctx, node, at)
}

// related asks the graph whether the named object is one the node's pods
// use.
func (a *Authorizer) related(ctx context.Context, node string, at Attributes) (bool, string, error) {
	if at.Name == "" {
		return false, "No Object name found", nil
	}
	ok, err := a.graph.Referenced(ctx, node, at.Resource, at.Namespace, at.Name)
	if err != nil || ok {
		return ok, "", err
	}
	return false, noRelationship(node), nil
}

func noRelationship(node string) string {
	return fmt.Sprintf("no relationship found between node '%s' and this object", node)
}

// nodeLease: a node gets, creates, updates and deletes its own Lease in
// kube-node-lease (the name of a new one is checked by admission).
func nodeLease(node string, at Attributes) (bool, string, error) {
	switch {
	case !leaseVerbs[at.Verb]:
		return false, "can only get, create, update, patch, or delete a node lease", nil
	case at.Namespace != "kube-node-lease":
		return false, `can only access leases in the "kube-node-lease" system namespace`, nil
	case at.Verb != "create" && at.Name != node:
		return false, "can only access node lease with the same name as the requesting node", nil
	}
	return true, "", nil
}

var leaseVerbs = map[string]bool{"get": true, "create": true, "update": true, "patch": true, "delete": true}

// nodeObject: a node reads only its own Node (by name or metadata.name);
// it may create, update and patch Nodes and nodes/status, which admission
// narrows to its own.
func nodeObject(node string, at Attributes) (bool, string, error) {
	switch {
	case at.Subresource == "" && writeVerbs[at.Verb]:
		return true, "", nil
	case at.Subresource == "status" && (at.Verb == "update" || at.Verb == "patch"):
		return true, "", nil
	case at.Subresource != "" || !readVerbs[at.Verb]:
		return false, "", nil
	case at.Name == node:
		return true, "", nil
	case at.Name == "":
		return false, fmt.Sprintf("node '%s' cannot read all nodes, only its own Node object", node), nil
	}
	return false, fmt.Sprintf("node '%s' cannot read '%s', only its own Node object", node, at.Name), nil
}

// nodePod: a node gets pods bound to it, lists and watches them by
// spec.nodeName=<node>, and creates and deletes pods and updates pod
// status, which admission narrows to mirror pods and pods bound to it.
func (a *Authorizer) nodePod(ctx context.Context, node string, at Attributes) (bool, string, error) {
	switch at.Subresource + "/" + at.Verb {
	case "/get":
		return a.boundPod(ctx, node, at)
	case "/list", "/watch":
		if selectsNode(at.FieldSelector, node) {
			return true, "", nil
		}
		if at.Name != "" {
			return a.boundPod(ctx, node, at)
		}
		return false, "can only list/watch pods with spec.nodeName field selector", nil
	case "/create", "/delete", "status/update", "status/patch", "eviction/create":
		return true, "", nil
	}
	return false, "", nil
}

func selectsNode(reqs fields.Requirements, node string) bool {
	for _, r := range reqs {
		if r.Field == "spec.nodeName" && r.Operator == selection.Equals && r.Value == node {
			return true
		}
	}
	return false
}

// boundPod allows reading a pod bound to the node.
func (a *Authorizer) boundPod(ctx context.Context, node string, at Attributes) (bool, string, error) {
	if at.Name == "" {
		return false, "No Object name found", nil
	}
	bound, exists, err := a.graph.PodNode(ctx, at.Namespace, at.Name)
	if err != nil {
		return false, "", err
	}
	if !exists || bound != node {
		return false, noRelationship(node), nil
	}
	return true, "", nil
}
