package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/httpstream"
	restclient "k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	utilexec "k8s.io/client-go/util/exec"

	"github.com/nodeagent/nodeagent/cri"
	crifake "github.com/nodeagent/nodeagent/cri/fake"
	"github.com/nodeagent/nodeagent/internal/syncbuf"
)

// streamHarness is the agent's streaming endpoints over plain HTTP on
// loopback (the filter in front of them is api_test.go's), on a fake
// runtime with pod default/web: sandbox sb, container "app" running.
type streamHarness struct {
	t    *testing.T
	rt   *crifake.Fake
	url  string
	cfg  *restclient.Config
	sb   string
	logs string
}

func startStreaming(t *testing.T) *streamHarness {
	t.Helper()
	h := &streamHarness{t: t, rt: crifake.New(), logs: t.TempDir()}
	mux := http.NewServeMux()
	(&streaming{rt: h.rt, log: slog.New(slog.NewTextHandler(io.Discard, nil)), now: time.Now}).routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	h.url, h.cfg = srv.URL, &restclient.Config{Host: srv.URL}
	h.rt.AddImage("img")
	var err error
	h.sb, err = h.rt.RunPodSandbox(context.Background(), cri.SandboxConfig{Name: "web",
		Labels: map[string]string{cri.LabelPodNamespace: "default", cri.LabelPodName: "web", cri.LabelPodUID: "u1"}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// container runs container name (attempt 0) in the pod; edit adjusts it.
func (h *streamHarness) container(name string, edit func(*cri.ContainerConfig)) string {
	h.t.Helper()
	cfg := cri.ContainerConfig{Name: name, Image: "img", LogPath: filepath.Join(h.logs, name+".log"),
		Labels: map[string]string{cri.LabelAttempt: "0"}}
	if edit != nil {
		edit(&cfg)
	}
	id, err := h.rt.CreateContainer(context.Background(), h.sb, cfg)
	if err == nil {
		err = h.rt.StartContainer(context.Background(), id)
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

// executors are the two ways kubectl runs exec and attach: SPDY (POST,
// kubectl up to 1.29, and the fallback) and WebSocket v5 (GET, 1.30 on).
func (h *streamHarness) executors(path string, q url.Values) map[string]remotecommand.Executor {
	h.t.Helper()
	u, _ := url.Parse(h.url + path + "?" + q.Encode())
	spdyExec, err := remotecommand.NewSPDYExecutor(h.cfg, "POST", u)
	if err != nil {
		h.t.Fatal(err)
	}
	wsExec, err := remotecommand.NewWebSocketExecutor(h.cfg, "GET", u.String())
	if err != nil {
		h.t.Fatal(err)
	}
	return map[string]remotecommand.Executor{"spdy": spdyExec, "websocket-v5": wsExec}
}

// Exec over SPDY and WebSocket: stdin reaches the command, stdout and
// stderr come back apart, and a non-zero exit code is the client's
// ExitError with that code.
func TestExecStreamsAndExitCode(t *testing.T) {
	h := startStreaming(t)
	h.container("app", nil)
	h.rt.SetStreamExecHandler(func(id string, cmd []string, s cri.Streams) (int32, error) {
		if strings.Join(cmd, " ") != "sh -c cat; echo err >&2; exit 3" || s.TTY {
			return 127, nil
		}
		io.Copy(s.Stdout, s.Stdin)
		io.WriteString(s.Stderr, "err\n")
		return 3, nil
	})
	q := url.Values{"command": {"sh", "-c", "cat; echo err >&2; exit 3"}, "input": {"1"}, "output": {"1"}, "error": {"1"}}
	for name, ex := range h.executors("/exec/default/web/app", q) {
		var out, errOut syncbuf.Buffer
		err := ex.StreamWithContext(context.Background(), remotecommand.StreamOptions{Stdin: strings.NewReader("hi\n"), Stdout: &out, Stderr: &errOut})
		var exit utilexec.ExitError
		if !errors.As(err, &exit) || exit.ExitStatus() != 3 {
			t.Errorf("%s: exec error %v, want exit code 3", name, err)
		}
		if out.String() != "hi\n" || errOut.String() != "err\n" {
			t.Errorf("%s: stdout %q, stderr %q", name, out.String(), errOut.String())
		}
	}
}

// Exec with a TTY: the command gets a terminal and the client's size.
func TestExecTTYResize(t *testing.T) {
	h := startStreaming(t)
	h.container("app", nil)
	h.rt.SetStreamExecHandler(func(id string, cmd []string, s cri.Streams) (int32, error) {
		if !s.TTY || s.Resize == nil {
			return 1, nil
		}
		sz := <-s.Resize
		fmt.Fprintf(s.Stdout, "%d %d\n", sz.Height, sz.Width)
		return 0, nil
	})
	q := url.Values{"command": {"stty", "size"}, "input": {"1"}, "output": {"1"}, "tty": {"1"}}
	for name, ex := range h.executors("/exec/default/web/app", q) {
		var out syncbuf.Buffer
		sizes := &fixedSize{size: remotecommand.TerminalSize{Width: 120, Height: 33}}
		err := ex.StreamWithContext(context.Background(), remotecommand.StreamOptions{Stdin: strings.NewReader(""),
			Stdout: &out, Tty: true, TerminalSizeQueue: sizes})
		if err != nil || out.String() != "33 120\n" {
			t.Errorf("%s: %v, output %q", name, err, out.String())
		}
	}
}

// fixedSize is a terminal that reports one size, once (nil: no more).
type fixedSize struct {
	once sync.Once
	size remotecommand.TerminalSize
}

func (f *fixedSize) Next() *remotecommand.TerminalSize {
	var out *remotecommand.TerminalSize
	f.once.Do(func() { out = &f.size })
	return out
}

// Attach over SPDY and WebSocket to a container created with stdin: what
// the client types reaches the container's process, whose output comes
// back; with StdinOnce the end of the client's stdin closes the
// container's.
func TestAttach(t *testing.T) {
	h := startStreaming(t)
	for name, ex := range map[string]func(string) remotecommand.Executor{
		"spdy":         func(p string) remotecommand.Executor { return h.executors(p, attachQuery)["spdy"] },
		"websocket-v5": func(p string) remotecommand.Executor { return h.executors(p, attachQuery)["websocket-v5"] },
	} {
		id := h.container("cat-"+strings.Split(name, "-")[0], func(c *cri.ContainerConfig) { c.Stdin, c.StdinOnce = true, true })
		stdin, stdout, _, err := h.rt.Stdio(id)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			io.Copy(stdout, stdin)
			io.WriteString(stdout, "bye\n")
			h.rt.ExitContainer(id, 0, "")
		}()
		var out syncbuf.Buffer
		err = ex("/attach/default/web/cat-"+strings.Split(name, "-")[0]).StreamWithContext(context.Background(),
			remotecommand.StreamOptions{Stdin: strings.NewReader("hello\n"), Stdout: &out, Stderr: &out})
		if err != nil || out.String() != "hello\nbye\n" {
			t.Errorf("%s: attach %v, output %q", name, err, out.String())
		}
	}
}

var attachQuery = url.Values{"input": {"1"}, "output": {"1"}, "error": {"1"}}

// Port-forward over SPDY (kubectl up to 1.29) and over SPDY tunnelled in
// WebSocket (1.30 on): a connection to the pod's port carries data both
// ways, intact; a port nobody serves is an error on the error stream.
func TestPortForward(t *testing.T) {
	h := startStreaming(t)
	h.rt.ServePort(h.sb, 8080, func(conn crifake.Conn) {
		io.Copy(conn, conn)
		conn.CloseWrite()
	})
	u, _ := url.Parse(h.url + "/portForward/default/web")
	tunnel, err := portforward.NewSPDYOverWebsocketDialer(u, h.cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr, up, err := spdy.RoundTripperFor(h.cfg)
	if err != nil {
		t.Fatal(err)
	}
	dialers := map[string]httpstream.Dialer{"spdy": spdy.NewDialer(up, &http.Client{Transport: tr}, "POST", u), "tunnel": tunnel}
	data := make([]byte, 256<<10)
	rand.Read(data)
	for name, d := range dialers {
		conn, proto, err := d.Dial(portforward.PortForwardProtocolV1Name)
		if err != nil || proto != portforward.PortForwardProtocolV1Name {
			t.Fatalf("%s: dial: %v, protocol %q", name, err, proto)
		}
		got, errText := forward(t, conn, 8080, 0, data)
		if !bytes.Equal(got, data) || errText != "" {
			t.Errorf("%s: %d bytes back of %d, error stream %q", name, len(got), len(data), errText)
		}
		if _, errText := forward(t, conn, 8081, 1, []byte("x")); !strings.Contains(errText, "connection refused") {
			t.Errorf("%s: a port nobody serves: error stream %q", name, errText)
		}
		conn.Close()
	}
}

// forward sends data on a new forwarded connection to port, half-closes,
// and returns what came back and what the error stream said.
func forward(t *testing.T, conn httpstream.Connection, port, requestID int, data []byte) ([]byte, string) {
	t.Helper()
	headers := http.Header{}
	headers.Set("streamType", "error")
	headers.Set("port", fmt.Sprint(port))
	headers.Set("requestID", fmt.Sprint(requestID))
	errStream, err := conn.CreateStream(headers)
	if err != nil {
		t.Fatal(err)
	}
	errStream.Close()
	headers.Set("streamType", "data")
	dataStream, err := conn.CreateStream(headers)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		dataStream.Write(data)
		dataStream.Close()
	}()
	got, _ := io.ReadAll(dataStream)
	errText, _ := io.ReadAll(errStream)
	return got, string(errText)
}

// What the endpoints refuse, before any upgrade: no command, a container
// that is not there or not running, a pod without a sandbox here.
func TestStreamingRefusals(t *testing.T) {
	h := startStreaming(t)
	h.container("app", nil)
	h.rt.ExitContainer(h.container("done", nil), 0, "")
	for _, tc := range []struct {
		method, path string
		code         int
		body         string
	}{
		{"POST", "/exec/default/web/app?output=1", 400, "no command given (command=...)"},
		{"POST", "/exec/default/web/app?command=true", 400, "you must specify at least 1 of stdin, stdout, stderr"},
		{"POST", "/exec/default/web/nope?command=true&output=1", 404, `container "nope" in pod default/web not found`},
		{"POST", "/exec/default/web/done?command=true&output=1", 400, `container "done" in pod default/web is not running`},
		{"GET", "/attach/default/other/app?output=1", 404, `container "app" in pod default/other not found`},
		{"POST", "/portForward/default/other", 404, "pod default/other has no running sandbox on this node"},
		{"POST", "/run/default/web/app", 400, "no command given (command=...)"},
		{"PUT", "/exec/default/web/app?command=true&output=1", 405, "Method Not Allowed"},
	} {
		req, _ := http.NewRequest(tc.method, h.url+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || strings.TrimSpace(string(b)) != tc.body {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, resp.StatusCode, b, tc.code, tc.body)
		}
	}
}

// /run answers with the command's output; a failure is a 500.
func TestRun(t *testing.T) {
	h := startStreaming(t)
	h.container("app", nil)
	h.rt.SetExecHandler(func(id string, cmd []string) (cri.ExecResult, error) {
		if cmd[0] == "fail" {
			return cri.ExecResult{Stderr: []byte("bad\n"), ExitCode: 2}, nil
		}
		return cri.ExecResult{Stdout: []byte(strings.Join(cmd, " ") + "\n")}, nil
	})
	for path, want := range map[string]string{
		"/run/default/web/app?command=echo&command=hi": "200 echo hi\n",
		"/run/default/web/app?command=fail":            "500 command [\"fail\"] exited with 2: bad\n\n",
	} {
		resp, err := http.Post(h.url+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := fmt.Sprintf("%d %s", resp.StatusCode, b); got != want {
			t.Errorf("POST %s: %q, want %q", path, got, want)
		}
	}
}
