package apiserver

import (
	"net/http/httptest"
	"testing"
)

func TestParseRequestInfo(t *testing.T) {
	cases := []struct {
		method, url string
		want        requestInfo
	}{
		{"GET", "/api/v1/pods", requestInfo{isResource: true, verb: "list", version: "v1", resource: "pods"}},
		{"GET", "/api/v1/pods?watch=true", requestInfo{isResource: true, verb: "watch", version: "v1", resource: "pods"}},
		{"GET", "/api/v1/namespaces/default/pods/web", requestInfo{isResource: true, verb: "get", version: "v1", namespace: "default", resource: "pods", name: "web"}},
		{"PATCH", "/api/v1/namespaces/default/pods/web/status", requestInfo{isResource: true, verb: "patch", version: "v1", namespace: "default", resource: "pods", name: "web", subresource: "status"}},
		{"POST", "/api/v1/namespaces/default/pods", requestInfo{isResource: true, verb: "create", version: "v1", namespace: "default", resource: "pods"}},
		{"GET", "/api/v1/namespaces", requestInfo{isResource: true, verb: "list", version: "v1", resource: "namespaces"}},
		{"GET", "/api/v1/namespaces/kube-system", requestInfo{isResource: true, verb: "get", version: "v1", resource: "namespaces", name: "kube-system"}},
		{"PUT", "/api/v1/namespaces/x/finalize", requestInfo{isResource: true, verb: "update", version: "v1", resource: "namespaces", name: "x", subresource: "finalize"}},
		{"DELETE", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", requestInfo{isResource: true, verb: "deletecollection", group: "coordination.k8s.io", version: "v1", namespace: "kube-node-lease", resource: "leases"}},
		{"DELETE", "/api/v1/nodes/n1", requestInfo{isResource: true, verb: "delete", version: "v1", resource: "nodes", name: "n1"}},
		{"GET", "/version", requestInfo{verb: "get"}},
		{"GET", "/apis/discovery.k8s.io", requestInfo{verb: "get"}},
	}
	for _, c := range cases {
		got := parseRequestInfo(httptest.NewRequest(c.method, c.url, nil))
		c.want.path = got.path
		if got != c.want {
			t.Errorf("%s %s:\n got %+v\nwant %+v", c.method, c.url, got, c.want)
		}
	}
}
