package apiserver

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/nodeagent/nodeagent/apiserver/auth"
	"github.com/nodeagent/nodeagent/certs"
)

// agentClientName is the file name (pki/<name>.crt, .key) of the server's
// client certificate toward node agents. Older servers issued it in
// system:masters; ClientCert reissues a certificate whose subject differs,
// so such a file is replaced, never reused.
const agentClientName = "apiserver-agent-client"

// errRedirectsForbidden fails a request to an agent that answers with a
// redirect: the server's credentials go to the agent it chose, nowhere else.
var errRedirectsForbidden = errors.New("redirects forbidden")

// Timeouts of the connections to node agents (kube-apiserver's kubelet
// client and net/http's defaults for idle connections).
const (
	agentDialTimeout      = 30 * time.Second
	agentTLSHandshake     = 10 * time.Second
	agentIdleConnTimeout  = 90 * time.Second
	agentMaxIdlePerHost   = 16
	agentErrorBodyMaxRead = 50000
)

// setupAgentClient issues the server's kubelet-client certificate (user
// kube-apiserver-kubelet-client, no groups) and builds the one client that
// talks to every node agent, verifying their serving certificates against
// the cluster CA or cfg.KubeletCertificateAuthority.
func (s *Server) setupAgentClient(ca *certs.CA) error {
	kp, err := ca.ClientCert(s.pkiDir(), agentClientName, auth.KubeletClientUser, nil)
	if err != nil {
		return fmt.Errorf("kubelet client certificate: %w", err)
	}
	roots := s.caPool
	if path := s.cfg.KubeletCertificateAuthority; path != "" {
		if roots, err = loadCertPool(path); err != nil {
			return err
		}
	}
	s.nodeAgentsClient = newAgentClient(roots, mustPair(kp))
	return nil
}

func loadCertPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kubelet certificate authority: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("kubelet certificate authority %s: no PEM certificate in it", path)
	}
	return pool, nil
}

// newAgentClient is an HTTP client with one shared transport: connections
// are reused and idle ones closed, the agent's certificate must chain to
// roots and name the address dialled, and redirects are not followed.
func newAgentClient(roots *x509.CertPool, cert tls.Certificate) *http.Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: agentDialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: agentTLSHandshake,
		IdleConnTimeout:     agentIdleConnTimeout,
		MaxIdleConnsPerHost: agentMaxIdlePerHost,
	}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
		return errRedirectsForbidden
	}}
}

// agentError turns an agent's answer other than 2xx into a Status, as
// kube-apiserver's generic response checker does with a kubelet's: same
// code and reason, and the agent's message.
func agentError(resp *http.Response, gr schema.GroupResource, name string) error {
	body, err := io.ReadAll(io.LimitReader(resp.Body, agentErrorBodyMaxRead))
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	switch resp.StatusCode {
	case http.StatusInternalServerError:
		return apierrors.NewInternalError(errors.New(string(body)))
	case http.StatusBadRequest:
		return apierrors.NewBadRequest(string(body))
	}
	se := apierrors.NewGenericServerResponse(resp.StatusCode, "get", gr, name, string(body), 0, false)
	if msg := strings.TrimSpace(string(body)); msg != "" {
		se.ErrStatus.Message = msg // the agent's words, not a generic phrase
	}
	return se
}
