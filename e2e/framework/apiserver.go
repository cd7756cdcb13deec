package framework

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/lab"
)

// APIServer is `nodeagent server` running inside a lab node.
type APIServer struct {
	t       testing.TB
	node    *lab.Node
	DataDir string
	LogPath string
	bin     string // the nodeagent binary; Binary's when empty
	args    []string
	env     []string // added to the test's environment
	cmd     *exec.Cmd
	exited  chan struct{}
	noReady bool // not a server: do not wait for /readyz
}

// Kubeconfig is the admin kubeconfig the server wrote.
func (s *APIServer) Kubeconfig() string { return filepath.Join(s.DataDir, "admin.kubeconfig") }

// StartAPIServer starts `nodeagent server` in the lab node, with its state
// in a temp dir, and waits until it is ready. It is stopped when the test ends.
func StartAPIServer(t testing.TB, node *lab.Node, extraArgs ...string) *APIServer {
	t.Helper()
	return StartAPIServerEnv(t, node, nil, extraArgs...)
}

// StartAPIServerEnv is StartAPIServer with these NAME=VALUE variables added
// to the server's environment.
func StartAPIServerEnv(t testing.TB, node *lab.Node, env []string, extraArgs ...string) *APIServer {
	t.Helper()
	dir := t.TempDir()
	s := &APIServer{t: t, node: node, env: env, DataDir: dir, LogPath: filepath.Join(dir, "server.log"),
		args: append([]string{"server", "--data-dir", dir, "--bind-address", "127.0.0.1",
			"--advertise-address", "127.0.0.1", "--etcd-compaction-interval", "1m"}, extraArgs...)}
	s.Start()
	t.Cleanup(func() { s.stopAndReport("server") })
	return s
}

// stopAndReport stops the process; when the test failed, it first makes a
// running one dump its goroutines (SIGQUIT) and logs the log's tail and,
// apart, the goroutines that were in nodeagent code, so that a hang shows
// where it hung even when the output is cut.
func (s *APIServer) stopAndReport(name string) {
	if !s.t.Failed() {
		s.Stop()
		return
	}
	quit := s.running()
	if quit {
		s.signal(syscall.SIGQUIT)
	}
	s.Stop()
	log, _ := os.ReadFile(s.LogPath)
	dump := []byte{}
	if i := bytes.LastIndex(log, []byte("SIGQUIT: quit")); quit && i >= 0 {
		log, dump = log[:i], log[i:]
	}
	s.t.Logf("%s log (%s):\n%s", name, s.LogPath, tail(log, 6000))
	if len(dump) > 0 {
		s.t.Logf("%s goroutines in nodeagent code at the end:\n%s", name, tail(ourGoroutines(dump), 8000))
	}
}

// ourGoroutines keeps, of a Go goroutine dump, each goroutine's header and
// its frames in this module, skipping goroutines with none.
func ourGoroutines(dump []byte) []byte {
	var out bytes.Buffer
	for _, g := range bytes.Split(dump, []byte("\n\n")) {
		lines := bytes.Split(g, []byte("\n"))
		var ours [][]byte
		for i, l := range lines {
			if bytes.Contains(l, []byte("github.com/nodeagent/nodeagent/")) && !bytes.HasPrefix(l, []byte("\t")) {
				ours = append(ours, l)
				if i+1 < len(lines) {
					ours = append(ours, lines[i+1])
				}
			}
		}
		if len(ours) == 0 {
			continue
		}
		out.Write(lines[0])
		out.WriteByte('\n')
		for _, l := range ours {
			out.Write(l)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// running reports whether the process was started and has not exited.
func (s *APIServer) running() bool {
	if s.cmd == nil || s.exited == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// Start starts the server process (again) and waits for it to be ready.
func (s *APIServer) Start() {
	s.t.Helper()
	logf, err := os.OpenFile(s.LogPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	defer logf.Close()
	bin := s.bin
	if bin == "" {
		bin = Binary(s.t)
	}
	s.cmd = exec.Command(bin, s.args...)
	// GOTRACEBACK=all: a SIGQUIT on failure dumps every goroutine.
	s.cmd.Env = append(append(os.Environ(), "GOTRACEBACK=all"), s.env...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.node.Start(s.cmd); err != nil {
		s.t.Fatalf("start nodeagent server: %v", err)
	}
	s.exited = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(s.cmd, s.exited)
	if s.noReady {
		return
	}
	Eventually(s.t, 60*time.Second, 100*time.Millisecond, "API server ready", s.ready)
}

func (s *APIServer) ready() error {
	select {
	case <-s.exited:
		return fmt.Errorf("server exited; see %s", s.LogPath)
	default:
	}
	caPEM, err := os.ReadFile(filepath.Join(s.DataDir, "pki", "ca.crt"))
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		DialContext: s.node.DialContext, TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get("https://127.0.0.1:6443/readyz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("readyz: %s", resp.Status)
	}
	return nil
}

// Kill9 kills the server with SIGKILL and waits for it to be gone.
func (s *APIServer) Kill9() {
	s.signal(syscall.SIGKILL)
}

// Stop stops the server with SIGTERM (SIGKILL after 10 s).
func (s *APIServer) Stop() {
	s.signal(syscall.SIGTERM)
}

func (s *APIServer) signal(sig syscall.Signal) {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// Kubectl runs a kubectl binary inside the lab node against the server with
// the given kubeconfig, and returns stdout and stderr.
func (s *APIServer) Kubectl(kubectl, kubeconfig string, stdin []byte, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := s.node.Run(cmd)
	return out.String(), errb.String(), err
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// StartIn starts cmd inside the server's lab node.
func (s *APIServer) StartIn(cmd *exec.Cmd) error { return s.node.Start(cmd) }

// Process is a nodeagent process (other than the server) in a lab node.
type Process struct {
	s *APIServer
}

// StartProcess starts `nodeagent <args>` in the lab node, logging to a
// file, and stops it when the test ends.
func StartProcess(t testing.TB, node *lab.Node, name string, args ...string) *Process {
	t.Helper()
	return StartProcessOf(t, node, Binary(t), name, args...)
}

// StartProcessOf is StartProcess with another nodeagent binary than
// Binary's (a copy without the helpers beside it, say).
func StartProcessOf(t testing.TB, node *lab.Node, bin, name string, args ...string) *Process {
	t.Helper()
	dir := t.TempDir()
	s := &APIServer{t: t, node: node, DataDir: dir, LogPath: filepath.Join(dir, name+".log"), bin: bin, args: args, noReady: true}
	s.Start()
	t.Cleanup(func() { s.stopAndReport(name) })
	return &Process{s: s}
}

// Kill9 kills the process with SIGKILL.
func (p *Process) Kill9() { p.s.Kill9() }

// Stop stops it with SIGTERM (SIGKILL after 10 s) and waits for it to end.
func (p *Process) Stop() { p.s.Stop() }

// Start starts it again.
func (p *Process) Start() { p.s.Start() }

// Running reports whether it was started and has not exited.
func (p *Process) Running() bool { return p.s.running() }

// LogPath is the file its output goes to (every start appends).
func (p *Process) LogPath() string { return p.s.LogPath }

// PID is the running process's pid (0 when none).
func (p *Process) PID() int { return p.s.PID() }

// InLab is a handle on a lab node for Kubectl and StartIn alone, for an API
// server the test started itself (a real kube-apiserver, say).
func InLab(t testing.TB, node *lab.Node) *APIServer {
	return &APIServer{t: t, node: node, noReady: true}
}
