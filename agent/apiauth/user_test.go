package apiauth

import (
	"net/http/httptest"
	"testing"
)

// Kubelet's mapping of requests to nodes/<subresource> and verbs.
func TestRequestAttributes(t *testing.T) {
	cases := []struct{ method, path, verb, sub string }{
		{"GET", "/stats", "get", "stats"},
		{"GET", "/stats/summary", "get", "stats"},
		{"GET", "/statsx", "get", "proxy"},
		{"GET", "/metrics", "get", "metrics"},
		{"GET", "/metrics/cadvisor", "get", "metrics"},
		{"GET", "/metricsfoo", "get", "proxy"},
		{"GET", "/logs", "get", "log"},
		{"GET", "/logs/syslog", "get", "log"},
		{"GET", "/spec/", "get", "spec"},
		{"GET", "/containerLogs/ns/pod/c", "get", "proxy"},
		{"GET", "/healthz", "get", "proxy"},
		{"GET", "/pods", "get", "proxy"},
		{"GET", "/configz", "get", "proxy"},
		{"POST", "/exec/ns/pod/c", "create", "proxy"},
		{"POST", "/run/ns/pod/c", "create", "proxy"},
		{"PUT", "/x", "update", "proxy"},
		{"PATCH", "/x", "patch", "proxy"},
		{"DELETE", "/x", "delete", "proxy"},
		{"HEAD", "/healthz", "", "proxy"},
		{"OPTIONS", "/stats", "", "stats"},
		{"GET", "/", "get", "proxy"},
	}
	u := &User{Name: "u"}
	for _, c := range cases {
		at := RequestAttributes(u, httptest.NewRequest(c.method, c.path, nil), "n1")
		if at.Verb != c.verb || at.Subresource != c.sub || at.Node != "n1" || at.User != u {
			t.Errorf("%s %s: verb %q nodes/%s of %s, want %q nodes/%s of n1", c.method, c.path, at.Verb, at.Subresource, at.Node, c.verb, c.sub)
		}
	}
}
