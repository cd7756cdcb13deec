package auth

import (
	"context"
	"testing"
)

// The API server's kubelet client gets what kube's system:kubelet-api-admin
// role gives and nothing else; nodes may create token and access reviews
// (kube's NodeRules) but reach no node's agent API, their own included.
func TestKubeletClientAndDelegationRules(t *testing.T) {
	a := NewAuthorizer(&fakeGraph{})
	kc := withAuthenticated(User{Name: KubeletClientUser})
	n1 := withAuthenticated(User{Name: "system:node:n1", Groups: []string{GroupNodes}})
	bob := withAuthenticated(User{Name: "bob"})
	admin := withAuthenticated(User{Name: "admin", Groups: []string{GroupMasters}})
	cases := []struct {
		who  *User
		at   Attributes
		want bool
	}{
		{kc, Attributes{Verb: "get", Resource: "nodes", Subresource: "proxy", Name: "n1"}, true},
		{kc, Attributes{Verb: "create", Resource: "nodes", Subresource: "proxy", Name: "n1"}, true},
		{kc, Attributes{Verb: "delete", Resource: "nodes", Subresource: "log", Name: "n1"}, true},
		{kc, Attributes{Verb: "get", Resource: "nodes", Subresource: "stats", Name: "n1"}, true},
		{kc, Attributes{Verb: "get", Resource: "nodes", Subresource: "metrics", Name: "n1"}, true},
		{kc, Attributes{Verb: "list", Resource: "nodes"}, true},
		{kc, Attributes{Verb: "watch", Resource: "nodes"}, true},
		{kc, Attributes{Verb: "proxy", Resource: "nodes", Name: "n1"}, true},
		{kc, Attributes{Verb: "get", Resource: "nodes", Subresource: "spec", Name: "n1"}, false},
		{kc, Attributes{Verb: "update", Resource: "nodes", Name: "n1"}, false},
		{kc, Attributes{Verb: "patch", Resource: "nodes", Subresource: "status", Name: "n1"}, false},
		{kc, Attributes{Verb: "get", Resource: "pods", Namespace: "default", Name: "x"}, false},
		{kc, Attributes{Verb: "get", Resource: "secrets", Namespace: "default", Name: "x"}, false},
		{kc, Attributes{Verb: "create", APIGroup: "authentication.k8s.io", Resource: "tokenreviews"}, false},
		{kc, Attributes{Verb: "get", APIGroup: "apps", Resource: "nodes", Subresource: "proxy"}, false},
		{n1, Attributes{Verb: "get", Resource: "nodes", Subresource: "proxy", Name: "n1"}, false},
		{n1, Attributes{Verb: "get", Resource: "nodes", Subresource: "proxy", Name: "n2"}, false},
		{n1, Attributes{Verb: "get", Resource: "nodes", Subresource: "log", Name: "n2"}, false},
		{n1, Attributes{Verb: "get", Resource: "nodes", Subresource: "stats", Name: "n2"}, false},
		{n1, Attributes{Verb: "create", APIGroup: "authentication.k8s.io", Resource: "tokenreviews"}, true},
		{n1, Attributes{Verb: "create", APIGroup: "authorization.k8s.io", Resource: "subjectaccessreviews"}, true},
		{n1, Attributes{Verb: "get", APIGroup: "authentication.k8s.io", Resource: "tokenreviews", Name: "x"}, false},
		{n1, Attributes{Verb: "create", APIGroup: "authorization.k8s.io", Resource: "selfsubjectaccessreviews"}, false},
		{bob, Attributes{Verb: "create", APIGroup: "authentication.k8s.io", Resource: "tokenreviews"}, false},
		{bob, Attributes{Verb: "create", APIGroup: "authorization.k8s.io", Resource: "subjectaccessreviews"}, false},
		{bob, Attributes{Verb: "get", Resource: "nodes", Subresource: "proxy", Name: "n1"}, false},
		{admin, Attributes{Verb: "get", Resource: "nodes", Subresource: "proxy", Name: "n1"}, true},
		{admin, Attributes{Verb: "create", APIGroup: "authentication.k8s.io", Resource: "tokenreviews"}, true},
	}
	for _, c := range cases {
		c.at.User, c.at.ResourceRequest = c.who, true
		got, reason, err := a.Authorize(context.Background(), c.at)
		if err != nil || got != c.want {
			t.Errorf("%s: %s %s/%s %s: allowed=%v (%s), want %v", c.who.Name, c.at.Verb, c.at.Resource, c.at.Subresource, c.at.Name, got, reason, c.want)
		}
		if !got && reason == "" {
			t.Errorf("%s: %s %s/%s: a denial without a reason", c.who.Name, c.at.Verb, c.at.Resource, c.at.Subresource)
		}
	}
}

// A user named like the kubelet client in a node's group is still a node
// for everything else; the kubelet client name gives nothing outside its role.
func TestKubeletClientGetsNoDiscoveryBeyondOthers(t *testing.T) {
	a := NewAuthorizer(&fakeGraph{})
	kc := withAuthenticated(User{Name: KubeletClientUser})
	if ok, _, _ := a.Authorize(context.Background(), Attributes{User: kc, Verb: "get", Path: "/api"}); !ok {
		t.Fatal("the kubelet client may not read discovery, which every authenticated user may")
	}
	if ok, _, _ := a.Authorize(context.Background(), Attributes{User: kc, Verb: "get", Path: "/metrics"}); ok {
		t.Fatal("the kubelet client may read /metrics")
	}
}
