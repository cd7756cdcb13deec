package auth

import (
	"context"
	"strings"
	"testing"
)

// fakeGraph: pods by "ns/name" -> node, and references "node|resource|ns/name".
type fakeGraph struct {
	pods map[string]string
	refs map[string]bool
}

func (g *fakeGraph) PodNode(_ context.Context, ns, name string) (string, bool, error) {
	node, ok := g.pods[ns+"/"+name]
	return node, ok, nil
}

func (g *fakeGraph) Referenced(_ context.Context, node, resource, ns, name string) (bool, error) {
	return g.refs[node+"|"+resource+"|"+ns+"/"+name], nil
}

func TestNodeAuthorizer(t *testing.T) {
	g := &fakeGraph{
		pods: map[string]string{"default/mine": "n1", "default/theirs": "n2"},
		refs: map[string]bool{"n1|secrets|default/s1": true, "n1|configmaps|default/c1": true},
	}
	a := NewAuthorizer(g)
	n1 := withAuthenticated(User{Name: "system:node:n1", Groups: []string{GroupNodes}})
	cases := []struct {
		at   Attributes
		want bool
	}{
		{Attributes{Verb: "get", Resource: "nodes", Name: "n2"}, true},
		{Attributes{Verb: "patch", Resource: "nodes", Name: "n1", Subresource: "status"}, true},
		{Attributes{Verb: "patch", Resource: "nodes", Name: "n2", Subresource: "status"}, false},
		{Attributes{Verb: "create", Resource: "nodes", Name: "n1"}, true},
		{Attributes{Verb: "update", APIGroup: "coordination.k8s.io", Resource: "leases", Namespace: "kube-node-lease", Name: "n1"}, true},
		{Attributes{Verb: "update", APIGroup: "coordination.k8s.io", Resource: "leases", Namespace: "kube-node-lease", Name: "n2"}, false},
		{Attributes{Verb: "get", APIGroup: "coordination.k8s.io", Resource: "leases", Namespace: "default", Name: "n1"}, false},
		{Attributes{Verb: "watch", Resource: "pods"}, true},
		{Attributes{Verb: "patch", Resource: "pods", Subresource: "status", Namespace: "default", Name: "mine"}, true},
		{Attributes{Verb: "patch", Resource: "pods", Subresource: "status", Namespace: "default", Name: "theirs"}, false},
		{Attributes{Verb: "update", Resource: "pods", Namespace: "default", Name: "mine"}, false},
		{Attributes{Verb: "delete", Resource: "pods", Namespace: "default", Name: "mine"}, true},
		{Attributes{Verb: "delete", Resource: "pods", Namespace: "default", Name: "theirs"}, false},
		{Attributes{Verb: "delete", Resource: "pods", Namespace: "default", Name: "gone"}, true},
		{Attributes{Verb: "create", Resource: "pods", Namespace: "default", Name: "static-n1", ObjectNodeName: "n1"}, true},
		{Attributes{Verb: "create", Resource: "pods", Namespace: "default", Name: "x", ObjectNodeName: "n2"}, false},
		{Attributes{Verb: "get", Resource: "secrets", Namespace: "default", Name: "s1"}, true},
		{Attributes{Verb: "get", Resource: "secrets", Namespace: "default", Name: "s2"}, false},
		{Attributes{Verb: "list", Resource: "secrets", Namespace: "default"}, false},
		{Attributes{Verb: "watch", Resource: "configmaps", Namespace: "default", FieldName: "c1"}, true},
		{Attributes{Verb: "create", Resource: "events", Namespace: "default"}, true},
		{Attributes{Verb: "delete", Resource: "events", Namespace: "default"}, false},
		{Attributes{Verb: "list", Resource: "services"}, true},
		{Attributes{Verb: "create", Resource: "services", Namespace: "default"}, false},
		{Attributes{Verb: "list", APIGroup: "discovery.k8s.io", Resource: "endpointslices"}, true},
		{Attributes{Verb: "get", Resource: "serviceaccounts", Namespace: "default", Name: "x"}, false},
	}
	for _, c := range cases {
		c.at.User, c.at.ResourceRequest = n1, true
		got, reason, err := a.Authorize(context.Background(), c.at)
		if err != nil || got != c.want {
			t.Errorf("%s %s/%s %s/%s: allowed=%v (%s), want %v", c.at.Verb, c.at.Resource, c.at.Subresource, c.at.Namespace, c.at.Name, got, reason, c.want)
		}
	}
}

func TestDenialReadsLikeKubernetes(t *testing.T) {
	a := NewAuthorizer(&fakeGraph{})
	n1 := withAuthenticated(User{Name: "system:node:n1", Groups: []string{GroupNodes}})
	_, reason, _ := a.Authorize(context.Background(), Attributes{User: n1, ResourceRequest: true, Verb: "patch", Resource: "nodes", Name: "n2"})
	want := `User "system:node:n1" cannot patch resource "nodes" in API group "" at the cluster scope: node 'n1' cannot modify node 'n2'`
	if reason != want {
		t.Fatalf("reason\n %s\nwant\n %s", reason, want)
	}
}

func TestMastersAndStrangers(t *testing.T) {
	a := NewAuthorizer(&fakeGraph{})
	admin := withAuthenticated(User{Name: "admin", Groups: []string{GroupMasters}})
	bob := withAuthenticated(User{Name: "bob"})
	if ok, _, _ := a.Authorize(context.Background(), Attributes{User: admin, ResourceRequest: true, Verb: "delete", Resource: "nodes"}); !ok {
		t.Fatal("system:masters denied")
	}
	if ok, _, _ := a.Authorize(context.Background(), Attributes{User: bob, ResourceRequest: true, Verb: "get", Resource: "pods"}); ok {
		t.Fatal("a user without a role may read pods")
	}
	if ok, _, _ := a.Authorize(context.Background(), Attributes{User: bob, Path: "/apis/apps"}); !ok {
		t.Fatal("discovery denied to an authenticated user")
	}
	// A node identity must be in system:nodes.
	fake := withAuthenticated(User{Name: "system:node:n1"})
	if ok, _, _ := a.Authorize(context.Background(), Attributes{User: fake, ResourceRequest: true, Verb: "get", Resource: "nodes"}); ok {
		t.Fatal("a node name without the system:nodes group was treated as a node")
	}
}

func TestParseTokens(t *testing.T) {
	in := "# comment\nabc,alice,1,\"system:masters,dev\"\nxyz,system:node:n1,2,system:nodes\n"
	toks, err := ParseTokens(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if u := toks["abc"]; u.Name != "alice" || len(u.Groups) != 2 || u.Groups[1] != "dev" {
		t.Fatalf("alice: %+v", u)
	}
	if u := toks["xyz"]; u.Name != "system:node:n1" || u.Groups[0] != GroupNodes {
		t.Fatalf("node: %+v", u)
	}
	if _, err := ParseTokens(strings.NewReader("onlytoken\n")); err == nil {
		t.Fatal("malformed line accepted")
	}
}

// The service proxy runs with its node's credentials: it lists and watches
// Services and EndpointSlices everywhere, and writes neither.
func TestNodesReadServicesAndEndpointSlices(t *testing.T) {
	a := NewAuthorizer(&fakeGraph{})
	n1 := withAuthenticated(User{Name: "system:node:n1", Groups: []string{GroupNodes}})
	for _, res := range []struct{ group, resource string }{{"", "services"}, {"discovery.k8s.io", "endpointslices"}} {
		for verb, want := range map[string]bool{"list": true, "watch": true, "get": true,
			"create": false, "update": false, "patch": false, "delete": false, "deletecollection": false} {
			for _, ns := range []string{"", "kube-system"} {
				at := Attributes{User: n1, ResourceRequest: true, Verb: verb, APIGroup: res.group, Resource: res.resource, Namespace: ns}
				if got, reason, err := a.Authorize(context.Background(), at); err != nil || got != want {
					t.Errorf("%s %s in %q: allowed=%v (%s), want %v", verb, res.resource, ns, got, reason, want)
				}
			}
		}
	}
	at := Attributes{User: n1, ResourceRequest: true, Verb: "update", Resource: "services", Subresource: "status", Namespace: "default", Name: "x"}
	if got, _, _ := a.Authorize(context.Background(), at); got {
		t.Error("a node may update services/status")
	}
}
