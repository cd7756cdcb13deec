package apiserver

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

var fuzzMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

// FuzzParseRequestInfo: any method and URL parse without a panic into
// request info that says no more than the URL does.
func FuzzParseRequestInfo(f *testing.F) {
	for _, u := range []string{"/api/v1/pods", "/api/v1/namespaces/default/pods/web/status?watch=1",
		"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", "/api/v1/namespaces/x/finalize",
		"/api/v1/namespaces//pods", "/api/v1/pods//status", "/apis", "/version", "//", ""} {
		f.Add(uint8(0), u)
		f.Add(uint8(4), u)
	}
	verbs := []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
	f.Fuzz(func(t *testing.T, m uint8, target string) {
		method := fuzzMethods[int(m)%len(fuzzMethods)]
		u, err := url.ParseRequestURI(target)
		if err != nil {
			t.Skip()
		}
		info := parseRequestInfo(&http.Request{Method: method, URL: u})
		if info.path != u.Path {
			t.Fatalf("path %q for %q", info.path, u.Path)
		}
		if !info.isResource {
			return
		}
		if trimmed := strings.TrimLeft(u.Path, "/"); !strings.HasPrefix(trimmed, "api/") && !strings.HasPrefix(trimmed, "apis/") {
			t.Fatalf("%q taken for a resource request: %+v", u.Path, info)
		}
		if !slices.Contains(verbs, info.verb) && info.verb != strings.ToLower(method) {
			t.Fatalf("verb %q for %s", info.verb, method)
		}
		if info.namespace != "" && !strings.Contains(u.Path, "/namespaces/"+info.namespace+"/") {
			t.Fatalf("namespace %q not in %q", info.namespace, u.Path)
		}
		for _, part := range []string{info.resource, info.name, info.subresource} {
			if part != "" && !strings.Contains(u.Path, part) {
				t.Fatalf("%q not in %q: %+v", part, u.Path, info)
			}
		}
	})
}
