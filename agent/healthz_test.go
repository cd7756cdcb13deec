package agent

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestHealthzListsFailedChecks: "ok" while every check passes; else 500
// with kubelet's listing, the reason withheld.
func TestHealthzListsFailedChecks(t *testing.T) {
	healthy, reason := true, ""
	checks := []healthCheck{{name: "pleg", check: func() (bool, string) { return healthy, reason }}}
	h := healthzHandler(checks, slog.New(slog.NewTextHandler(io.Discard, nil)))
	get := func() (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := get(); code != 200 || body != "ok" {
		t.Errorf("healthy: %d %q", code, body)
	}
	healthy, reason = false, "runtime event stream is not connected"
	want := "[+]ping ok\n[-]pleg failed: reason withheld\nhealthz check failed\n"
	if code, body := get(); code != 500 || body != want {
		t.Errorf("pleg unhealthy: %d %q, want 500 %q", code, body, want)
	}
}
