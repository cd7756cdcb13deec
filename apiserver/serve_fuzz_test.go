package apiserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var fuzzContentTypes = []string{"application/json", "application/yaml", "application/vnd.kubernetes.protobuf",
	"application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json",
	"application/apply-patch+yaml", ""}

// FuzzServeHTTP sends any method, path, query, content type and body to a
// real server (embedded etcd on loopback), as the admin or anonymously:
// every answer is under 500, except kube's 504 for a resourceVersion from
// the future. (Pod logs are left out: that proxy dials node addresses.)
func FuzzServeHTTP(f *testing.F) {
	ts := startServer(f, f.TempDir(), 0)
	admin, host := rawClient(f, ts)
	anon := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ts.srv.caPool}}}
	hostURL, _ := url.Parse(host)
	establishWidgets(f, admin, host)
	seeds := []struct {
		method      uint8
		path, query string
		ct          uint8
		body        string
	}{
		{1, "/api/v1/namespaces/default/configmaps", "", 0, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":"v"}}`},
		{1, "/api/v1/namespaces/default/pods", "fieldValidation=Strict", 1, "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i}]}\n"},
		{3, "/api/v1/namespaces/default/configmaps/a", "", 3, `[{"op":"add","path":"/data/x","value":"y"}]`},
		{3, "/api/v1/namespaces/default/configmaps/a", "", 5, `{"data":{"x":null}}`},
		{0, "/api/v1/namespaces/default/configmaps", "labelSelector=a%20in%20(b)&limit=1&resourceVersion=1&resourceVersionMatch=Exact", 0, ""},
		{0, "/api/v1/pods", "watch=true&allowWatchBookmarks=true&timeoutSeconds=1", 0, ""},
		{4, "/api/v1/namespaces/default/configmaps", "", 0, ""},
		{0, "/apis", "", 0, ""},
		{1, "/api/v1/namespaces", "", 0, `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"n"}}`},
		{1, "/api/v1/namespaces/default/pods/p/binding", "", 0, `{"apiVersion":"v1","kind":"Binding","metadata":{"name":"p"},"target":{"name":"n1"}}`},
		{1, "/apis/example.com/v1/namespaces/default/widgets", "fieldValidation=Strict", 0, `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"replicas":1}}`},
		{3, "/apis/example.com/v1/namespaces/default/widgets/w/status", "", 4, `{"status":{"ready":true},"spec":{"x":1}}`},
		{2, "/apis/example.com/v1/namespaces/default/widgets/w", "", 1, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {replicas: -1}\n"},
		{0, "/apis/example.com/v1/widgets", "fieldSelector=metadata.namespace%3Ddefault", 0, ""},
		{1, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", "", 0, `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"a.b"},"spec":{}}`},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, s.ct, []byte(s.body), true)
	}
	f.Fuzz(func(t *testing.T, m uint8, path, query string, ct uint8, body []byte, asAdmin bool) {
		req := &http.Request{Method: fuzzMethods[int(m)%len(fuzzMethods)], Header: http.Header{},
			URL: &url.URL{Scheme: "https", Host: hostURL.Host, Path: "/" + strings.TrimLeft(path, "/"), RawQuery: query}}
		if info := parseRequestInfo(req); info.subresource == "log" || strings.Contains(path, "/log") || streamSubresources[info.subresource] != "" {
			t.Skip("the log and stream proxies dial node addresses")
		}
		if c := fuzzContentTypes[int(ct)%len(fuzzContentTypes)]; c != "" {
			req.Header.Set("Content-Type", c)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		req = req.WithContext(ctx)
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		client := anon
		if asAdmin {
			client = admin
		}
		resp, err := client.Do(req)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("%s %s?%s: no answer in 20s", req.Method, req.URL.Path, query)
			}
			t.Skipf("request not sent: %v", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode < 500 {
			return
		}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if resp.StatusCode == http.StatusGatewayTimeout && tooLargeRVStatus(data) {
			return
		}
		t.Fatalf("%s %s?%s (%s, %q): %d %s", req.Method, req.URL.Path, query, req.Header.Get("Content-Type"), body, resp.StatusCode, data)
	})
}

// tooLargeRVStatus says whether a body is kube's ResourceVersionTooLarge
// Status.
func tooLargeRVStatus(data []byte) bool {
	st := &metav1.Status{}
	if err := json.Unmarshal(data, st); err != nil {
		return false
	}
	return apierrors.HasStatusCause(&apierrors.StatusError{ErrStatus: *st}, metav1.CauseTypeResourceVersionTooLarge)
}
