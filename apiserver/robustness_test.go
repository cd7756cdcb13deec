package apiserver

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

// rawClient sends HTTP requests with the admin identity.
func rawClient(t testing.TB, ts *testServer) (*http.Client, string) {
	t.Helper()
	cfg := ts.restConfig(t, mustRead(t, ts.srv.AdminKubeconfig()))
	tlsCfg, err := rest.TLSConfigFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}}, cfg.Host
}

type statusBody struct {
	Kind    string `json:"kind"`
	Code    int    `json:"code"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

func do(t *testing.T, c *http.Client, method, url, contentType string, body []byte) (int, statusBody, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var st statusBody
	json.Unmarshal(data, &st)
	return resp.StatusCode, st, resp.Header
}

func TestBadInputIsRejectedAndNothingIsWritten(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c, host := rawClient(t, ts)
	cms := host + "/api/v1/namespaces/default/configmaps"
	big := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"x":"` + strings.Repeat("a", 4<<20) + `"}}`
	cases := []struct {
		name, contentType, body, query string
		code                           int
		msg                            string
	}{
		{"malformed json", "application/json", `{"apiVersion":"v1","kind":"ConfigMap",`, "", 400, "cannot be handled as a ConfigMap"},
		{"wrong apiVersion", "application/json", `{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"x1"}}`, "", 400, `no kind "ConfigMap" is registered for version "apps/v1"`},
		{"wrong kind", "application/json", `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x2"}}`, "", 400, ""},
		{"unknown kind", "application/json", `{"apiVersion":"v1","kind":"Frobnicator","metadata":{"name":"x3"}}`, "", 400, ""},
		{"unknown field, strict", "application/json", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x4"},"bogus":1}`, "?fieldValidation=Strict", 400, `strict decoding error: unknown field "bogus"`},
		{"oversized", "application/json", big, "", 413, ""},
		{"unsupported media type", "text/plain", `hello`, "", 415, ""},
		{"invalid name", "application/yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Not_Valid}\n", "", 422, `ConfigMap "Not_Valid" is invalid: metadata.name`},
	}
	for _, tc := range cases {
		code, st, _ := do(t, c, "POST", cms+tc.query, tc.contentType, []byte(tc.body))
		if code != tc.code || st.Kind != "Status" || !strings.Contains(st.Message, tc.msg) {
			t.Errorf("%s: %d %+v, want %d with %q", tc.name, code, st, tc.code, tc.msg)
		}
	}
	list, err := ts.admin(t).CoreV1().ConfigMaps("default").List(bg, metaListAll)
	if err != nil || len(list.Items) != 0 {
		t.Fatalf("rejected requests left objects behind: %v %d", err, len(list.Items))
	}

	code, _, hdr := do(t, c, "POST", cms, "application/yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\nbogus: 1\n"))
	if code != 201 || !strings.Contains(hdr.Get("Warning"), `unknown field \"bogus\"`) {
		t.Errorf("YAML create with an unknown field (Warn): %d, Warning %q", code, hdr.Get("Warning"))
	}
	if code, _, _ := do(t, c, "PATCH", cms+"/ok", "application/apply-patch+yaml", []byte("{}")); code != 422 {
		t.Errorf("server-side apply without fieldManager: %d, want 422", code)
	}
	if code, _, _ := do(t, c, "PATCH", cms+"/ok", "application/apply-patch+cbor", []byte("{}")); code != 415 {
		t.Errorf("server-side apply in CBOR: %d, want 415", code)
	}
	if code, st, _ := do(t, c, "GET", host+"/api/v1/frobnicators", "", nil); code != 404 || st.Reason != "NotFound" {
		t.Errorf("unknown resource: %d %+v", code, st)
	}
}

func TestUnauthenticatedIs401(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ts.srv.caPool}}}
	_, host := rawClient(t, ts)
	code, st, _ := do(t, c, "GET", host+"/api/v1/pods", "", nil)
	if code != 401 || st.Reason != "Unauthorized" {
		t.Fatalf("anonymous: %d %+v", code, st)
	}
	req, _ := http.NewRequest("GET", host+"/api/v1/pods", nil)
	req.Header.Set("Authorization", "Bearer not-a-token")
	if resp, err := c.Do(req); err != nil || resp.StatusCode != 401 {
		t.Fatalf("bad token: %v %v", err, resp)
	}
	// Health answers anyone without credentials, but not a bad token: as
	// kube-apiserver, whose anonymous access is limited to these paths.
	for _, p := range []string{"/healthz", "/livez", "/readyz"} {
		if code, _, _ := do(t, c, "GET", host+p, "", nil); code != 200 {
			t.Errorf("anonymous %s: %d", p, code)
		}
		req, _ := http.NewRequest("GET", host+p, nil)
		req.Header.Set("Authorization", "Bearer not-a-token")
		if resp, err := c.Do(req); err != nil || resp.StatusCode != 401 {
			t.Errorf("bad token %s: %v %v", p, err, resp)
		}
	}
}
