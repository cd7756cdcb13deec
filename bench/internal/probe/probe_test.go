package probe

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestReadyz(t *testing.T) {
	status := http.StatusServiceUnavailable
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	if err := Readyz(context.Background(), srv.Client(), srv.URL); err == nil {
		t.Error("503: want an error")
	}
	status = http.StatusOK
	if err := Readyz(context.Background(), srv.Client(), srv.URL); err != nil {
		t.Errorf("200: %v", err)
	}
}
