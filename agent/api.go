package agent

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nodeagent/nodeagent/agent/apiauth"
	"github.com/nodeagent/nodeagent/certs"
	"github.com/nodeagent/nodeagent/cri"
)

// serveAPI answers on Port over HTTPS: /healthz and
// /containerLogs/<ns>/<pod>/<container>, every request authenticated and
// authorized (apiauth) as kubelet's webhook mode does. Unless HealthzPort
// is 0, /healthz is also served without credentials on loopback.
func (a *Agent) serveAPI(ctx context.Context) {
	if a.cfg.HealthzPort != 0 {
		go a.serveHealthz(ctx)
	}
	if err := a.listenAPI(ctx); err != nil && ctx.Err() == nil {
		a.log.Error("agent API stopped", "err", err)
	}
}

func (a *Agent) listenAPI(ctx context.Context) error {
	srv, err := a.apiServer()
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(a.cfg.Port)))
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); srv.Close() }()
	err = srv.ServeTLS(l, "", "")
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// apiServer is the agent's HTTPS API. Client certificates are asked for,
// not required: apiauth verifies them, or a bearer token, per request.
func (a *Agent) apiServer() (*http.Server, error) {
	cert, err := a.servingCert()
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", healthz(a.healthChecks(), a.log))
	mux.HandleFunc("GET /containerLogs/{ns}/{pod}/{container}", a.serveLogs)
	a.observeRoutes(mux)
	return &http.Server{Handler: a.apiFilter().Wrap(mux), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 90 * time.Second,
		ErrorLog:  slog.NewLogLogger(a.log.Handler(), slog.LevelDebug),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}}, nil
}

// apiFilter authenticates client certificates against ClientCA and bearer
// tokens by TokenReview, and authorizes by SubjectAccessReview, both asked
// of the API server with the node's credentials.
func (a *Agent) apiFilter() *apiauth.Filter {
	var pool *x509.CertPool
	if p := x509.NewCertPool(); p.AppendCertsFromPEM(a.cfg.ClientCA) {
		pool = p
	} else {
		a.log.Warn("no client CA: the agent API refuses every client certificate")
	}
	authn := apiauth.NewAuthenticator(apiauth.AuthenticatorConfig{ClientCA: pool, Tokens: a.client.AuthenticationV1().TokenReviews()})
	authz := apiauth.NewAuthorizer(apiauth.AuthorizerConfig{Reviews: a.client.AuthorizationV1().SubjectAccessReviews()})
	return apiauth.NewFilter(authn, authz, a.cfg.NodeName, a.log.With("component", "api"))
}

// servingCert is TLSCertFile/TLSPrivateKeyFile, or else a certificate from
// the agent's own small CA, which the API server does not trust.
func (a *Agent) servingCert() (tls.Certificate, error) {
	if a.cfg.TLSCertFile != "" || a.cfg.TLSPrivateKeyFile != "" {
		cert, err := tls.LoadX509KeyPair(a.cfg.TLSCertFile, a.cfg.TLSPrivateKeyFile)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("agent serving certificate: %w", err)
		}
		if err := cert.Leaf.VerifyHostname(a.nodeIP); err != nil {
			a.log.Warn("the serving certificate does not cover the node's address: the API server will refuse it", "node-ip", a.nodeIP, "err", err)
		}
		return cert, nil
	}
	a.log.Warn("no --tls-cert-file: the agent API serves a self-signed certificate, which the API server refuses (kubectl logs fails); " +
		"mint one with `nodeagent kubeconfig node NAME --serving-cert-out DIR --node-ip IP`")
	return a.selfSignedCert()
}

func (a *Agent) selfSignedCert() (tls.Certificate, error) {
	dir := filepath.Join(a.cfg.RootDir, "pki")
	ca, err := certs.LoadOrCreateCA(dir, "nodeagent-agent-"+a.cfg.NodeName)
	if err != nil {
		return tls.Certificate{}, err
	}
	kp, err := ca.ServingCert(dir, "agent", []string{a.cfg.NodeName}, []net.IP{net.ParseIP(a.nodeIP)})
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
}

// serveLogs writes a container's log, without the CRI framing, honouring
// previous, tailLines and follow as kubelet does.
func (a *Agent) serveLogs(w http.ResponseWriter, r *http.Request) {
	ns, pod, name := r.PathValue("ns"), r.PathValue("pod"), r.PathValue("container")
	q := r.URL.Query()
	c, err := a.findContainer(r.Context(), ns, pod, name, q.Get("previous") == "true")
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	f, err := os.Open(c.LogPath)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/plain")
	tail := -1
	if n, err := strconv.Atoi(q.Get("tailLines")); err == nil {
		tail = n
	}
	writeLogLines(w, f, tail)
	if q.Get("follow") == "true" {
		a.followLog(r.Context(), w, f, c.ID)
	}
}

func (a *Agent) findContainer(ctx context.Context, ns, pod, name string, previous bool) (cri.Container, error) {
	cs, err := a.rt.ListContainers(ctx, map[string]string{cri.LabelPodNamespace: ns, cri.LabelPodName: pod, cri.LabelContainerName: name})
	if err != nil {
		return cri.Container{}, err
	}
	st := podState{containers: cs}
	in := st.instances(name)
	idx := 0
	if previous {
		idx = 1
	}
	if len(in) <= idx {
		return cri.Container{}, fmt.Errorf("container %q in pod %s/%s not found", name, ns, pod)
	}
	return in[idx], nil
}

// writeLogLines writes the content of CRI log lines; tail >= 0 keeps only
// the last tail lines.
func writeLogLines(w io.Writer, r io.Reader, tail int) {
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, criContent(sc.Text()))
		if tail >= 0 && len(lines) > tail {
			lines = lines[1:]
		}
	}
	for _, l := range lines {
		io.WriteString(w, l)
	}
}

// criContent strips "<time> <stream> <P|F> " and restores the newline of
// full lines.
func criContent(line string) string {
	parts := strings.SplitN(line, " ", 4)
	if len(parts) < 4 {
		return line + "\n"
	}
	if parts[2] == "P" {
		return parts[3]
	}
	return parts[3] + "\n"
}

// followLog streams what is appended to the log until the container stops
// or the client goes away.
func (a *Agent) followLog(ctx context.Context, w http.ResponseWriter, f *os.File, id string) {
	flusher, _ := w.(http.Flusher)
	rd := bufio.NewReader(f)
	for ctx.Err() == nil {
		line, err := rd.ReadString('\n')
		if line != "" && err == nil {
			io.WriteString(w, criContent(strings.TrimSuffix(line, "\n")))
			if flusher != nil {
				flusher.Flush()
			}
			continue
		}
		if c, err := a.rt.ContainerStatus(ctx, id); err != nil || c.State != cri.ContainerRunning {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}
