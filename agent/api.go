package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/agent/apiauth"
	"github.com/nodeagent/nodeagent/certs"
	"github.com/nodeagent/nodeagent/cri"
)

// serveAPI answers on Port over HTTPS: /healthz, /containerLogs, /exec,
// /attach, /portForward and /run (streaming.go), every request
// authenticated and authorized (apiauth) as kubelet's webhook mode does. Unless HealthzPort
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
	a.observeRoutes(mux)
	(&streaming{rt: a.rt, log: a.log.With("component", "streaming"), now: a.clock.Now, willRestart: a.willRestart}).routes(mux)
	return &http.Server{Handler: a.apiFilter().Wrap(mux), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 90 * time.Second,
		ErrorLog:  slog.NewLogLogger(a.log.Handler(), slog.LevelDebug),
		TLSConfig: &tls.Config{GetCertificate: cert, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}}, nil
}

// WithServingCertificate makes the API serve current()'s certificate
// (kubelet's --rotate-server-certificates: one the cluster CA issued
// through a CSR, rotated without a restart), and until current has one,
// the agent's self-signed one.
func WithServingCertificate(current func() *tls.Certificate) Option {
	return func(a *Agent) { a.servingCurrent = current }
}

// willRestart reports whether exited container c of pod ns/name will be
// restarted: the pod's restart policy (a sidecar's own) allows it.
func (a *Agent) willRestart(ns, name string, c cri.Container) bool {
	obj, ok, err := a.pods.GetIndexer().GetByKey(ns + "/" + name)
	if err != nil || !ok {
		return false
	}
	pod := obj.(*corev1.Pod)
	policy := pod.Spec.RestartPolicy
	for _, ic := range pod.Spec.InitContainers {
		if ic.Name == c.Name && ic.RestartPolicy != nil {
			policy = corev1.RestartPolicy(*ic.RestartPolicy)
		}
	}
	return policy == corev1.RestartPolicyAlways || (policy == corev1.RestartPolicyOnFailure && c.ExitCode != 0)
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

// servingCert picks the API's certificate for each handshake:
// TLSCertFile/TLSPrivateKeyFile; else the rotated one from a CSR
// (WithServingCertificate), the self-signed one standing in until it is
// issued; else a certificate from the agent's own small CA, which the API
// server does not trust.
func (a *Agent) servingCert() (func(*tls.ClientHelloInfo) (*tls.Certificate, error), error) {
	if a.cfg.TLSCertFile != "" || a.cfg.TLSPrivateKeyFile != "" {
		cert, err := tls.LoadX509KeyPair(a.cfg.TLSCertFile, a.cfg.TLSPrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("agent serving certificate: %w", err)
		}
		if err := cert.Leaf.VerifyHostname(a.nodeIP); err != nil {
			a.log.Warn("the serving certificate does not cover the node's address: the API server will refuse it", "node-ip", a.nodeIP, "err", err)
		}
		return fixedCert(cert), nil
	}
	self, err := a.selfSignedCert()
	if err != nil {
		return nil, err
	}
	if current := a.servingCurrent; current != nil {
		return func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			if c := current(); c != nil {
				return c, nil
			}
			return &self, nil
		}, nil
	}
	a.log.Warn("no --tls-cert-file: the agent API serves a self-signed certificate, which the API server refuses (kubectl logs fails); " +
		"give the agent --rotate-server-certificates, or mint one with `nodeagent kubeconfig node NAME --serving-cert-out DIR --node-ip IP`")
	return fixedCert(self), nil
}

func fixedCert(c tls.Certificate) func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &c, nil }
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
