package auth

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/selection"
)

// fakeGraph: pods by "ns/name" -> node, and references "node|resource|ns/name".
type fakeGraph struct {
	pods  map[string]string
	refs  map[string]bool
	nodes map[string]string // "resource/name" -> node
}

func (g *fakeGraph) PodNode(_ context.Context, ns, name string) (string, bool, error) {
	node, ok := g.pods[ns+"/"+name]
	return node, ok, nil
}

func (g *fakeGraph) Referenced(_ context.Context, node, resource, ns, name string) (bool, error) {
	return g.refs[node+"|"+resource+"|"+ns+"/"+name], nil
}

func (g *fakeGraph) ObjectNode(_ context.Context, resource, name string) (string, error) {
	return g.nodes[resource+"/"+name], nil
}

// The Node authorizer as kube-apiserver 1.37 runs it: each case with the
// reason kube gives ("" for none; writes of pods, nodes and leases are
// narrowed by admission, not here).
func TestNodeAuthorizer(t *testing.T) {
	g := &fakeGraph{
		pods: map[string]string{"default/mine": "n1", "default/theirs": "n2", "default/pending": ""},
		refs: map[string]bool{"n1|secrets|default/s1": true, "n1|configmaps|default/c1": true,
			"n1|persistentvolumeclaims|default/claim": true, "n1|persistentvolumes|/pv1": true},
		nodes: map[string]string{"persistentvolumes/local-n1": "n1", "persistentvolumes/local-n2": "n2",
			"volumeattachments/va-n1": "n1", "volumeattachments/va-n2": "n2"},
	}
	a := NewAuthorizer(g)
	n1 := withAuthenticated(User{Name: "system:node:n1", Groups: []string{GroupNodes}})
	onN1 := fields.Requirements{{Field: "spec.nodeName", Operator: selection.Equals, Value: "n1"}}
	onN2 := fields.Requirements{{Field: "spec.nodeName", Operator: selection.Equals, Value: "n2"}}
	norel := "no relationship found between node 'n1' and this object"
	cases := []struct {
		at     Attributes
		want   bool
		reason string
	}{
		{Attributes{Verb: "get", Resource: "nodes", Name: "n1"}, true, ""},
		{Attributes{Verb: "watch", Resource: "nodes", Name: "n1"}, true, ""},
		{Attributes{Verb: "get", Resource: "nodes", Name: "n2"}, false, "node 'n1' cannot read 'n2', only its own Node object"},
		{Attributes{Verb: "list", Resource: "nodes"}, false, "node 'n1' cannot read all nodes, only its own Node object"},
		{Attributes{Verb: "create", Resource: "nodes"}, true, ""},
		{Attributes{Verb: "patch", Resource: "nodes", Name: "n2"}, true, ""},
		{Attributes{Verb: "patch", Resource: "nodes", Name: "n1", Subresource: "status"}, true, ""},
		{Attributes{Verb: "get", Resource: "nodes", Name: "n1", Subresource: "status"}, false, ""},
		{Attributes{Verb: "delete", Resource: "nodes", Name: "n1"}, false, ""},
		{Attributes{Verb: "deletecollection", Resource: "nodes"}, false, ""},
		{Attributes{Verb: "update", APIGroup: "coordination.k8s.io", Resource: "leases", Namespace: "kube-node-lease", Name: "n1"}, true, ""},
		{Attributes{Verb: "create", APIGroup: "coordination.k8s.io", Resource: "leases", Namespace: "kube-node-lease"}, true, ""},
		{Attributes{Verb: "update", APIGroup: "coordination.k8s.io", Resource: "leases", Namespace: "kube-node-lease", Name: "n2"}, false,
			"can only access node lease with the same name as the requesting node"},
		{Attributes{Verb: "get", APIGroup: "coordination.k8s.io", Resource: "leases", Namespace: "default", Name: "n1"}, false,
			`can only access leases in the "kube-node-lease" system namespace`},
		{Attributes{Verb: "list", APIGroup: "coordination.k8s.io", Resource: "leases", Namespace: "kube-node-lease"}, false,
			"can only get, create, update, patch, or delete a node lease"},
		{Attributes{Verb: "watch", Resource: "pods", FieldSelector: onN1}, true, ""},
		{Attributes{Verb: "list", Resource: "pods", FieldSelector: onN2}, false, "can only list/watch pods with spec.nodeName field selector"},
		{Attributes{Verb: "list", Resource: "pods"}, false, "can only list/watch pods with spec.nodeName field selector"},
		{Attributes{Verb: "get", Resource: "pods", Namespace: "default", Name: "mine"}, true, ""},
		{Attributes{Verb: "get", Resource: "pods", Namespace: "default", Name: "theirs"}, false, norel},
		{Attributes{Verb: "get", Resource: "pods", Namespace: "default", Name: "pending"}, false, norel},
		{Attributes{Verb: "get", Resource: "pods", Namespace: "default", Name: "gone"}, false, norel},
		{Attributes{Verb: "watch", Resource: "pods", Namespace: "default", Name: "mine"}, true, ""},
		{Attributes{Verb: "get", Resource: "pods", Subresource: "status", Namespace: "default", Name: "mine"}, false, ""},
		{Attributes{Verb: "get", Resource: "pods", Subresource: "log", Namespace: "default", Name: "mine"}, false, ""},
		{Attributes{Verb: "create", Resource: "pods", Subresource: "binding", Namespace: "default", Name: "mine"}, false, ""},
		{Attributes{Verb: "patch", Resource: "pods", Subresource: "status", Namespace: "default", Name: "theirs"}, true, ""},
		{Attributes{Verb: "update", Resource: "pods", Namespace: "default", Name: "mine"}, false, ""},
		{Attributes{Verb: "delete", Resource: "pods", Namespace: "default", Name: "theirs"}, true, ""},
		{Attributes{Verb: "deletecollection", Resource: "pods", Namespace: "default"}, false, ""},
		{Attributes{Verb: "create", Resource: "pods", Namespace: "default"}, true, ""},
		{Attributes{Verb: "get", Resource: "secrets", Namespace: "default", Name: "s1"}, true, ""},
		{Attributes{Verb: "get", Resource: "secrets", Namespace: "default", Name: "s2"}, false, norel},
		{Attributes{Verb: "get", Resource: "secrets", Namespace: "other", Name: "s1"}, false, norel},
		{Attributes{Verb: "list", Resource: "secrets", Namespace: "default"}, false, "No Object name found"},
		{Attributes{Verb: "list", Resource: "secrets"}, false, "can only read namespaced object of this type"},
		{Attributes{Verb: "update", Resource: "secrets", Namespace: "default", Name: "s1"}, false, "can only read resources of this type"},
		{Attributes{Verb: "watch", Resource: "configmaps", Namespace: "default", Name: "c1"}, true, ""},
		{Attributes{Verb: "get", Resource: "persistentvolumeclaims", Namespace: "default", Name: "claim"}, true, ""},
		{Attributes{Verb: "list", Resource: "persistentvolumeclaims", Namespace: "default"}, false, "can only get individual resources of this type"},
		{Attributes{Verb: "get", Resource: "persistentvolumeclaims", Namespace: "default", Name: "other"}, false, norel},
		{Attributes{Verb: "patch", Resource: "persistentvolumeclaims", Subresource: "status", Namespace: "default", Name: "claim"}, true, ""},
		{Attributes{Verb: "get", Resource: "persistentvolumeclaims", Subresource: "status", Namespace: "default", Name: "claim"}, false,
			"can only get/update/patch this type"},
		{Attributes{Verb: "get", Resource: "persistentvolumes", Name: "pv1"}, true, ""},
		{Attributes{Verb: "get", Resource: "persistentvolumes", Name: "pv2"}, false, norel},
		{Attributes{Verb: "list", Resource: "persistentvolumes"}, false, "can only get individual resources of this type"},
		{Attributes{Verb: "update", Resource: "persistentvolumes", Name: "pv1"}, false, norel},
		{Attributes{Verb: "get", Resource: "persistentvolumes", Name: "local-n1"}, true, ""},
		{Attributes{Verb: "update", Resource: "persistentvolumes", Name: "local-n1"}, true, ""},
		{Attributes{Verb: "patch", Resource: "persistentvolumes", Name: "local-n1"}, true, ""},
		{Attributes{Verb: "patch", Resource: "persistentvolumes", Subresource: "status", Name: "local-n1"}, false, "cannot get subresource"},
		{Attributes{Verb: "delete", Resource: "persistentvolumes", Name: "local-n1"}, false, "can only get individual resources of this type"},
		{Attributes{Verb: "get", Resource: "persistentvolumes", Name: "local-n2"}, false, norel},
		{Attributes{Verb: "update", Resource: "persistentvolumes", Name: "local-n2"}, false, norel},
		{Attributes{Verb: "get", APIGroup: "storage.k8s.io", Resource: "volumeattachments", Name: "va-n1"}, true, ""},
		{Attributes{Verb: "get", APIGroup: "storage.k8s.io", Resource: "volumeattachments", Name: "va-n2"}, false, norel},
		{Attributes{Verb: "get", APIGroup: "storage.k8s.io", Resource: "volumeattachments", Name: "gone"}, false, norel},
		{Attributes{Verb: "list", APIGroup: "storage.k8s.io", Resource: "volumeattachments"}, false, "can only get individual resources of this type"},
		{Attributes{Verb: "update", APIGroup: "storage.k8s.io", Resource: "volumeattachments", Subresource: "status", Name: "va-n1"}, false,
			"can only get individual resources of this type"},
		{Attributes{Verb: "list", APIGroup: "storage.k8s.io", Resource: "csidrivers"}, true, ""},
		{Attributes{Verb: "create", APIGroup: "storage.k8s.io", Resource: "csidrivers"}, false, ""},
		{Attributes{Verb: "get", APIGroup: "storage.k8s.io", Resource: "storageclasses", Name: "x"}, false, ""},
		{Attributes{Verb: "get", Resource: "serviceaccounts", Namespace: "default", Name: "x"}, false,
			"can only create tokens for individual service accounts"},
		{Attributes{Verb: "create", Resource: "events", Namespace: "default"}, true, ""},
		{Attributes{Verb: "patch", APIGroup: "events.k8s.io", Resource: "events", Namespace: "default", Name: "e"}, true, ""},
		{Attributes{Verb: "delete", Resource: "events", Namespace: "default", Name: "e"}, false, ""},
		{Attributes{Verb: "list", Resource: "services"}, true, ""},
		{Attributes{Verb: "create", Resource: "services", Namespace: "default"}, false, ""},
		{Attributes{Verb: "list", APIGroup: "discovery.k8s.io", Resource: "endpointslices"}, true, ""},
		{Attributes{Verb: "get", Resource: "namespaces", Name: "default"}, false, ""},
	}
	for _, c := range cases {
		c.at.User, c.at.ResourceRequest = n1, true
		got, msg, err := a.Authorize(context.Background(), c.at)
		want := ""
		if !c.want {
			want = denial(c.at, nodeReason(c.reason))
		}
		if err != nil || got != c.want || msg != want {
			t.Errorf("%s %s/%s %s/%s: allowed=%v %q, want %v %q", c.at.Verb, c.at.Resource, c.at.Subresource, c.at.Namespace, c.at.Name, got, msg, c.want, want)
		}
	}
}

func TestDenialReadsLikeKubernetes(t *testing.T) {
	a := NewAuthorizer(&fakeGraph{})
	n1 := withAuthenticated(User{Name: "system:node:n1", Groups: []string{GroupNodes}})
	bob := withAuthenticated(User{Name: "bob"})
	cases := []struct {
		at   Attributes
		want string
	}{
		{Attributes{User: n1, ResourceRequest: true, Verb: "get", Resource: "nodes", Name: "n2"},
			`User "system:node:n1" cannot get resource "nodes" in API group "" at the cluster scope: node: node 'n1' cannot read 'n2', only its own Node object`},
		{Attributes{User: n1, ResourceRequest: true, Verb: "get", Resource: "secrets", Namespace: "other", Name: "s"},
			`User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "other": node: no relationship found between node 'n1' and this object`},
		{Attributes{User: n1, ResourceRequest: true, Verb: "delete", Resource: "nodes", Name: "n1"},
			`User "system:node:n1" cannot delete resource "nodes" in API group "" at the cluster scope`},
		{Attributes{User: bob, ResourceRequest: true, Verb: "get", Resource: "pods", Subresource: "log", Namespace: "default", Name: "p"},
			`User "bob" cannot get resource "pods/log" in API group "" in the namespace "default"`},
	}
	for _, c := range cases {
		if _, reason, _ := a.Authorize(context.Background(), c.at); reason != c.want {
			t.Errorf("reason\n %s\nwant\n %s", reason, c.want)
		}
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

// A node gets an Endpoints object by name (kube's system:node rule), and
// does nothing else with them: no list, no watch, no write.
func TestNodesOnlyGetEndpoints(t *testing.T) {
	a := NewAuthorizer(&fakeGraph{})
	n1 := withAuthenticated(User{Name: "system:node:n1", Groups: []string{GroupNodes}})
	for verb, want := range map[string]bool{"get": true, "list": false, "watch": false,
		"create": false, "update": false, "patch": false, "delete": false, "deletecollection": false} {
		at := Attributes{User: n1, ResourceRequest: true, Verb: verb, Resource: "endpoints", Namespace: "default", Name: "web"}
		if got, reason, err := a.Authorize(context.Background(), at); err != nil || got != want {
			t.Errorf("%s endpoints: allowed=%v (%s), want %v", verb, got, reason, want)
		}
	}
}
