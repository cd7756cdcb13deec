package apiserver

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// rawBody sends a request with the admin identity and returns the code and
// the body as sent.
func rawBody(t *testing.T, c *http.Client, method, url string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// A verb a URL does not serve is kube's 405 (POST to a named URL no longer
// creates the body's name); a group, resource, subresource or path the
// server does not serve is kube's 404 "the server could not find the
// requested resource" with empty details, which kubectl prints as is.
func TestUnservedMethodsAndPaths(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c, host := rawClient(t, ts)
	ns := host + "/api/v1/namespaces/default"
	cm := []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"y"}}`)
	const notAllowed = `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server does not allow this method on the requested resource","reason":"MethodNotAllowed","details":{},"code":405}`
	const notFound = `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}`
	cases := []struct {
		method, url string
		code        int
		body        string
	}{
		{"POST", ns + "/configmaps/x", 405, notAllowed},
		{"PUT", ns + "/configmaps", 405, notAllowed},
		{"PATCH", ns + "/configmaps", 405, notAllowed},
		{"GET", ns + "/pods/p/binding", 405, notAllowed},
		{"POST", ns + "/pods/p/status", 405, notAllowed},
		{"DELETE", host + "/api/v1/configmaps", 405, notAllowed},
		{"POST", host + "/api/v1/configmaps", 405, notAllowed},
		{"GET", host + "/api/v1/configmaps/y", 404, notFound},
		{"POST", ns + "/nodes", 404, notFound},
		{"GET", ns + "/nodes/n1", 404, notFound},
		{"GET", ns + "/configmaps/x/status", 404, notFound},
		{"GET", ns + "/pods/p/proxy", 404, notFound},
		{"GET", host + "/apis/apps/v1/namespaces/default/daemonsets/d/scale", 404, notFound},
		{"GET", host + "/apis/batch/v1/namespaces/default/jobs/j/scale", 404, notFound},
		{"GET", host + "/apis/apps/v2", 404, notFound},
		{"GET", host + "/api/v1/frobnicators", 404, notFound},
		{"GET", host + "/api/v2/pods", 404, notFound},
		{"GET", host + "/nonexistent", 404, notFound},
	}
	for _, tc := range cases {
		code, body := rawBody(t, c, tc.method, tc.url, cm)
		if code != tc.code || strings.TrimSpace(body) != tc.body {
			t.Errorf("%s %s: %d %s\nwant %d %s", tc.method, tc.url, code, body, tc.code, tc.body)
		}
	}
	if _, err := ts.admin(t).CoreV1().ConfigMaps("default").Get(bg, "y", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("POST to a named URL created the body's name: %v", err)
	}
	// Authorization comes first, as in kube: a node may not list
	// ingresses, served or not.
	_, err := ts.node(t, "n1").NetworkingV1().Ingresses("").List(bg, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("node listing an unserved resource: %v", err)
	}
}
