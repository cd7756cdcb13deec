package agent

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/cri"
)

func (h *streamHarness) get(path string) (int, string) {
	h.t.Helper()
	resp, err := http.Get(h.url + path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The log endpoint's options, as kubelet serves them.
func TestServeLogsOptions(t *testing.T) {
	h := startStreaming(t)
	start := time.Now().Add(-time.Hour)
	at := start
	h.rt.SetClock(func() time.Time { return at })
	old := h.container("app", nil)
	h.rt.WriteLog(old, "stdout", "previous life")
	h.rt.ExitContainer(old, 1, "")
	id := h.container("app", func(c *cri.ContainerConfig) {
		c.Labels[cri.LabelAttempt], c.LogPath = "1", strings.Replace(c.LogPath, ".log", "-1.log", 1)
	})
	for i, line := range []string{"one", "two", "three"} {
		at = start.Add(time.Duration(i) * time.Minute)
		h.rt.WriteLog(id, "stdout", line)
	}
	ts := func(m int) string { return start.Add(time.Duration(m) * time.Minute).UTC().Format(time.RFC3339Nano) }
	for _, tc := range []struct {
		query, want string
		code        int
	}{
		{"", "one\ntwo\nthree\n", 200},
		{"?tailLines=2", "two\nthree\n", 200},
		{"?tailLines=0", "", 200},
		{"?limitBytes=6", "one\ntw", 200},
		{"?timestamps=true&tailLines=1", ts(2) + " three\n", 200},
		{"?sinceTime=" + start.Add(time.Minute).UTC().Format(time.RFC3339), "two\nthree\n", 200},
		{"?sinceSeconds=3600", "two\nthree\n", 200},
		{"?previous=true", "previous life\n", 200},
		{"?tailLines=-1", "tailLines must be at least 0, not -1\n", 400},
		{"?limitBytes=0", "limitBytes must be at least 1, not 0\n", 400},
		{"?sinceSeconds=x", "sinceSeconds \"x\" is not an integer\n", 400},
		{"?sinceSeconds=1&sinceTime=2026-01-01T00:00:00Z", "at most one of sinceTime or sinceSeconds may be specified\n", 400},
	} {
		if code, body := h.get("/containerLogs/default/web/app" + tc.query); code != tc.code || body != tc.want {
			t.Errorf("logs%s: %d %q, want %d %q", tc.query, code, body, tc.code, tc.want)
		}
	}
	if code, body := h.get("/containerLogs/default/web/app?previous=true&tailLines=0"); code != 200 || body != "" {
		t.Errorf("previous, tail 0: %d %q", code, body)
	}
}

// follow streams what the container writes until it stops.
func TestServeLogsFollow(t *testing.T) {
	h := startStreaming(t)
	id := h.container("app", nil)
	h.rt.WriteLog(id, "stdout", "before")
	resp, err := http.Get(h.url + "/containerLogs/default/web/app?follow=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	if line, err := rd.ReadString('\n'); err != nil || line != "before\n" {
		t.Fatalf("first line %q %v", line, err)
	}
	h.rt.WriteLog(id, "stderr", "after")
	if line, err := rd.ReadString('\n'); err != nil || line != "after\n" {
		t.Fatalf("followed line %q %v", line, err)
	}
	h.rt.WriteLog(id, "stdout", "last")
	h.rt.ExitContainer(id, 0, "")
	rest, err := io.ReadAll(rd)
	if err != nil || string(rest) != "last\n" {
		t.Fatalf("after the container stopped: %q %v", rest, err)
	}
}

// previous is what kubelet reads: the newest instance while it waits to
// be restarted, else the one before it; nothing for a container that ran
// once and will not restart.
func TestServeLogsPrevious(t *testing.T) {
	h := startStreaming(t)
	restart := false
	mux := http.NewServeMux()
	(&streaming{rt: h.rt, now: time.Now, willRestart: func(ns, pod string, c cri.Container) bool {
		return restart && ns == "default" && pod == "web" && c.Name == "app"
	}}).routes(mux)
	get := func() (int, string) {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", "/containerLogs/default/web/app?previous=true", nil))
		return rec.Code, rec.Body.String()
	}
	first := h.container("app", nil)
	h.rt.WriteLog(first, "stdout", "first life")
	h.rt.ExitContainer(first, 1, "")
	if code, body := get(); code != 404 || body != "previous terminated container \"app\" in pod default/web not found\n" {
		t.Errorf("ran once, no restart: %d %q", code, body)
	}
	restart = true
	if code, body := get(); code != 200 || body != "first life\n" {
		t.Errorf("waiting to restart: %d %q, want the exited instance's log", code, body)
	}
	second := h.container("app", func(c *cri.ContainerConfig) {
		c.Labels[cri.LabelAttempt], c.LogPath = "1", strings.Replace(c.LogPath, ".log", "-1.log", 1)
	})
	h.rt.WriteLog(second, "stdout", "second life")
	if code, body := get(); code != 200 || body != "first life\n" {
		t.Errorf("restarted, running: %d %q, want the earlier instance's log", code, body)
	}
	h.rt.ExitContainer(second, 1, "")
	if code, body := get(); code != 200 || body != "second life\n" {
		t.Errorf("exited again, waiting: %d %q, want the newest instance's log", code, body)
	}
}
