package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestGetCountsAndFailures(t *testing.T) {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		if n == 3 {
			http.Error(w, "no", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "answer %d\n", n)
	}))
	defer srv.Close()
	var out strings.Builder
	err := runGet(context.Background(), []string{"--count", "3", srv.URL}, &out)
	if err == nil || !strings.Contains(err.Error(), "1 of 3 requests failed") {
		t.Fatalf("err = %v", err)
	}
	want := "request 1: answer 1\nrequest 2: answer 2\nrequest 3: error: 503 Service Unavailable\n"
	if out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
}
