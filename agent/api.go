package agent

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nodeagent/nodeagent/apiserver/certs"
	"github.com/nodeagent/nodeagent/cri"
)

// serveAPI answers the API server on Port over HTTPS: /healthz and
// /containerLogs/<ns>/<pod>/<container>. Clients must present a
// certificate signed by the cluster CA (Config.ClientCA).
func (a *Agent) serveAPI(ctx context.Context) {
	if err := a.listenAPI(ctx); err != nil && ctx.Err() == nil {
		a.log.Error("agent API stopped", "err", err)
	}
}

func (a *Agent) listenAPI(ctx context.Context) error {
	cert, err := a.servingCert()
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(a.cfg.ClientCA)
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	mux.HandleFunc("/containerLogs/{ns}/{pod}/{container}", a.requireClient(a.serveLogs))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, TLSConfig: &tls.Config{
		Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven}}
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

func (a *Agent) requireClient(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		h(w, r)
	}
}

// servingCert is a certificate from the agent's own small CA (the API
// server does not verify it, as with kubelets' self-signed certificates).
func (a *Agent) servingCert() (tls.Certificate, error) {
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
