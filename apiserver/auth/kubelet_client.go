package auth

import "fmt"

// KubeletClientUser is the API server's own identity toward node agents
// (kube-apiserver's --kubelet-client-certificate, as kubeadm names it). It
// is in no group: what it may do comes from kubeletAPIAdmin alone.
const KubeletClientUser = "kube-apiserver-kubelet-client"

// kubeletAPISubresources are the node subresources the agent's API checks
// (kubelet's mapping: /stats, /metrics, /logs, everything else proxy), all
// verbs of which kube's system:kubelet-api-admin ClusterRole grants.
var kubeletAPISubresources = map[string]bool{"proxy": true, "log": true, "stats": true, "metrics": true}

// kubeletAPIAdminNodeVerbs are the verbs that role grants on nodes themselves.
var kubeletAPIAdminNodeVerbs = map[string]bool{"get": true, "list": true, "watch": true, "proxy": true}

// reviewResources are what kube's NodeRules let a node create, so that its
// kubelet can delegate authentication and authorization to the API server.
var reviewResources = map[string]bool{
	"authentication.k8s.io/tokenreviews":        true,
	"authorization.k8s.io/subjectaccessreviews": true,
}

// delegationRules decides what Kubernetes grants through bootstrap RBAC roles
// rather than through the Node authorizer: the kubelet client's
// system:kubelet-api-admin role, the nodes' review creation, and nobody
// else's access to a node's agent API (nodes/proxy, nodes/log, ...). It
// reports decided=false for every other request.
func delegationRules(at Attributes) (allowed bool, why string, decided bool) {
	if !at.ResourceRequest {
		return false, "", false
	}
	if at.User.Name == KubeletClientUser && kubeletAPIAdmin(at) {
		return true, "", true
	}
	if _, isNode := at.User.NodeName(); isNode && at.Verb == "create" && at.Subresource == "" && reviewResources[at.APIGroup+"/"+at.Resource] {
		return true, "", true
	}
	if at.APIGroup == "" && at.Resource == "nodes" && at.Subresource != "" && at.Subresource != "status" {
		return false, fmt.Sprintf("nodes/%s is for the API server's kubelet client and system:masters only", at.Subresource), true
	}
	return false, "", false
}

// kubeletAPIAdmin is kube's system:kubelet-api-admin ClusterRole: nodes
// get/list/watch/proxy, and every verb on the agent API's subresources.
func kubeletAPIAdmin(at Attributes) bool {
	if at.APIGroup != "" || at.Resource != "nodes" {
		return false
	}
	if at.Subresource == "" {
		return kubeletAPIAdminNodeVerbs[at.Verb]
	}
	return kubeletAPISubresources[at.Subresource]
}
