package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/rest"

	"github.com/nodeagent/nodeagent/bench/internal/kubeanchor"
	"github.com/nodeagent/nodeagent/bench/internal/probe"
)

// readyTimeout bounds how long the server may take to answer /readyz.
const readyTimeout = 60 * time.Second

// server is a `nodeagent server` subprocess on a loopback port with its state
// in a temporary directory.
type server struct {
	dir  string // data dir; removed by stop
	port int
	proc *kubeanchor.Child // its log is <dir>/server.log
}

// startServer runs bin as `server` on a free loopback port and waits until it
// is ready. On error nothing is left behind.
func startServer(ctx context.Context, bin string) (*server, error) {
	dir, err := os.MkdirTemp("", "nodeagent-bench-server-")
	if err != nil {
		return nil, fmt.Errorf("temp dir for the server: %w", err)
	}
	s := &server{dir: dir}
	if err := s.start(bin); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.waitReady(ctx); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// start launches the process on a free port.
func (s *server) start(bin string) error {
	port, err := kubeanchor.FreeLoopbackPort()
	if err != nil {
		return err
	}
	s.port = port
	// The server does not create its data dir (etcd's log sink fails
	// without it), so make it here.
	if err := os.Mkdir(s.dataDir(), 0o700); err != nil {
		return fmt.Errorf("server data dir: %w", err)
	}
	s.proc, err = kubeanchor.StartChild(s.dir, "server", bin, "server", "--disable-agent", "--data-dir", s.dataDir(),
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(port))
	return err
}

func (s *server) dataDir() string { return filepath.Join(s.dir, "data") }

func (s *server) url() string { return "https://127.0.0.1:" + strconv.Itoa(s.port) }

// waitReady polls /readyz until it answers 200, the process exits or the
// deadline passes.
func (s *server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = s.probeReady(ctx); last == nil {
			return nil
		}
		select {
		case <-s.proc.Exited():
			return fmt.Errorf("server exited before it was ready: %s", s.proc.LogTail())
		case <-ctx.Done():
			return fmt.Errorf("server not ready within %s (last: %v): %s", readyTimeout, last, s.proc.LogTail())
		case <-tick.C:
		}
	}
}

// probeReady makes one GET /readyz, trusting only the server's CA.
func (s *server) probeReady(ctx context.Context) error {
	client, err := s.caClient()
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections()
	return probe.Readyz(ctx, client, s.url())
}

// caClient is an HTTPS client that trusts <data-dir>/pki/ca.crt (which may
// not exist yet) and uses no proxy.
func (s *server) caClient() (*http.Client, error) {
	pem, err := os.ReadFile(filepath.Join(s.dataDir(), "pki", "ca.crt"))
	if err != nil {
		return nil, fmt.Errorf("read the server's CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("no certificate in the server's ca.crt")
	}
	return &http.Client{Transport: &http.Transport{Proxy: nil,
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}, nil
}

// restConfig is the admin kubeconfig's client config (see
// kubeanchor.RESTConfig).
func (s *server) restConfig() (*rest.Config, error) {
	return kubeanchor.RESTConfig(filepath.Join(s.dataDir(), "admin.kubeconfig"), nil)
}

// name is how the report calls this target.
func (s *server) name() string { return "nodeagent" }

// rss is the server's resident set size (VmRSS).
func (s *server) rss() ([]procRSS, error) {
	b, err := s.proc.RSS()
	return []procRSS{{"nodeagent server", b}}, err
}

// stop stops the server (see kubeanchor.Child.Stop) and removes the temporary
// directory.
func (s *server) stop() error {
	defer os.RemoveAll(s.dir)
	return s.proc.Stop()
}
