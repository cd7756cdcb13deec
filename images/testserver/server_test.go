package main

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func newTestServer(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	s, err := Listen(Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s.hostname = "pod-a"
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return s, hs
}

func get(t *testing.T, method, url string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHTTPEndpoints(t *testing.T) {
	_, hs := newTestServer(t)
	t.Setenv("TESTSERVER_MARK", "x1")
	cases := []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"GET", "/", "", 200, "hello from pod-a\n"},
		{"GET", "/hostname", "", 200, "pod-a\n"},
		{"GET", "/echo?msg=hi", "", 200, "hi"},
		{"POST", "/echo", "body!", 200, "body!"},
		{"GET", "/slow?ms=5", "", 200, "slept 5ms\n"},
		{"GET", "/slow?ms=-1", "", 400, ""},
		{"GET", "/exit?code=300", "", 400, ""},
		{"GET", "/nope", "", 404, ""},
	}
	for _, c := range cases {
		code, body := get(t, c.method, hs.URL+c.path, c.body)
		if code != c.code || (c.want != "" && body != c.want) {
			t.Errorf("%s %s = %d %q, want %d %q", c.method, c.path, code, body, c.code, c.want)
		}
	}
	if _, env := get(t, "GET", hs.URL+"/env", ""); !strings.Contains(env, "TESTSERVER_MARK=x1\n") {
		t.Errorf("/env does not list the environment: %q", env)
	}
}

func TestHealthzSwitch(t *testing.T) {
	_, hs := newTestServer(t)
	steps := []struct {
		method, query string
		code          int
	}{
		{"GET", "", 200},
		{"POST", "?fail=true", 503},
		{"GET", "", 503},
		{"POST", "?fail=false", 200},
		{"GET", "", 200},
		{"POST", "?fail=maybe", 400},
	}
	for i, st := range steps {
		if code, _ := get(t, st.method, hs.URL+"/healthz"+st.query, ""); code != st.code {
			t.Fatalf("step %d: %s /healthz%s = %d, want %d", i, st.method, st.query, code, st.code)
		}
	}
}

func TestExitRequest(t *testing.T) {
	s, hs := newTestServer(t)
	if code, body := get(t, "GET", hs.URL+"/exit?code=3", ""); code != 200 || body != "exiting with 3\n" {
		t.Fatalf("/exit = %d %q", code, body)
	}
	select {
	case code := <-s.ExitRequests():
		if code != 3 {
			t.Fatalf("exit code %d, want 3", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no exit request delivered")
	}
}

func TestEchoServers(t *testing.T) {
	s, err := Listen(Config{TCPEchoAddr: "127.0.0.1:0", UDPEchoAddr: "127.0.0.1:0"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tcpAddr := s.closers[0].(net.Listener).Addr().String()
	udpAddr := s.closers[1].(net.PacketConn).LocalAddr().String()
	for _, network := range []string{"tcp", "udp"} {
		addr := map[string]string{"tcp": tcpAddr, "udp": udpAddr}[network]
		c, err := net.Dial(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		msg := []byte("ping-" + network)
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
			t.Errorf("%s echo = %q, %v", network, got, err)
		}
		c.Close()
	}
}

func TestModes(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"version"}, &out, nil); err != nil || out.String() != version+"\n" {
		t.Fatalf("version: %q %v", out.String(), err)
	}
	if err := run([]string{"dance"}, &out, nil); err == nil {
		t.Fatal("unknown mode accepted")
	}
}
