package certificate

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"
)

// Rotation timing: kubelet's. A certificate is renewed when a random point
// between 70 % and 90 % of its lifetime has passed; a failed renewal is
// retried after retryMin, doubling to retryMax; a request waits
// renewTimeout for its certificate.
const (
	rotateAtMin  = 0.7
	rotateAtSpan = 0.2
	retryMin     = 2 * time.Second
	retryMax     = 5 * time.Minute
	renewTimeout = 15 * time.Minute
)

// rotationDeadline is when a certificate valid from notBefore to notAfter
// is renewed, for a jitter in [0,1).
func rotationDeadline(notBefore, notAfter time.Time, jitter float64) time.Time {
	life := notAfter.Sub(notBefore)
	return notBefore.Add(time.Duration(float64(life) * (rotateAtMin + rotateAtSpan*jitter)))
}

// ManagerConfig is what a Manager runs with.
type ManagerConfig struct {
	Store    Store
	NodeName string
	// Initial is the certificate the node starts with (the Store's current
	// pair is preferred when it is valid).
	Initial *tls.Certificate
	Clock   clock.Clock
	// Jitter is a number in [0,1) (rand.Float64).
	Jitter func() float64
	// OnRotate runs after a new certificate is current (the transport
	// closes its connections, so the next ones present the new one).
	OnRotate func()
	// StopWhenExpired: Run returns ErrExpired when the certificate expired
	// ExpiredGrace ago and the API server refuses to renew it (a node that
	// can bootstrap again); else it keeps trying.
	StopWhenExpired bool
}

// Manager holds the node's client certificate and renews it.
type Manager struct {
	c   ManagerConfig
	log *slog.Logger

	mu   sync.RWMutex
	cert *tls.Certificate
}

// NewManager starts from the Store's current pair when it is valid now,
// else from c.Initial.
func NewManager(c ManagerConfig, log *slog.Logger) (*Manager, error) {
	cert := c.Initial
	stored, err := c.Store.Current()
	switch {
	case err == nil && validAt(stored.Leaf, c.Clock.Now()):
		cert = stored
		log.Info("client certificate from the cert dir", "cert", c.Store.CurrentPath(), "notAfter", stored.Leaf.NotAfter)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		log.Warn("the cert dir's current client certificate is unusable; using the kubeconfig's", "err", err)
	}
	if cert == nil || cert.Leaf == nil {
		return nil, errors.New("no client certificate to rotate")
	}
	return &Manager{c: c, log: log, cert: cert}, nil
}

// Current is the certificate the node presents now.
func (m *Manager) Current() *tls.Certificate {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.cert
}

// GetClientCertificate is a tls.Config's: the current certificate, asked
// for on every handshake.
func (m *Manager) GetClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return m.Current(), nil
}

// ErrExpired: the certificate expired ExpiredGrace ago and the API server
// still refuses to renew it (it answers, so the agent is not merely cut
// off): only new credentials help, and kubelet exits then so that its
// restart bootstraps again (ManagerConfig.StopWhenExpired).
var ErrExpired = errors.New("the client certificate expired and the API server refuses to renew it")

// ExpiredGrace is how long after the expiry renewals are still tried
// before Run returns ErrExpired (kubelet's 5 minutes).
const ExpiredGrace = 5 * time.Minute

// Run renews the certificate at each rotation deadline until ctx ends
// (nil) or, with StopWhenExpired, ErrExpired; client is the node's own (kube's selfnodeclient
// approval is for a node renewing its own certificate).
func (m *Manager) Run(ctx context.Context, client kubernetes.Interface) error {
	for {
		leaf := m.Current().Leaf
		deadline := rotationDeadline(leaf.NotBefore, leaf.NotAfter, m.c.Jitter())
		m.log.Info("client certificate rotation scheduled", "notAfter", leaf.NotAfter.UTC().Format(time.RFC3339), "rotateAt", deadline.UTC().Format(time.RFC3339))
		if !m.sleep(ctx, deadline.Sub(m.c.Clock.Now())) {
			return nil
		}
		if err := m.renewUntilDone(ctx, client); err != nil || ctx.Err() != nil {
			return err
		}
	}
}

// renewUntilDone renews, retrying with a doubling back-off, until it is
// done or ctx ends (nil), or ErrExpired.
func (m *Manager) renewUntilDone(ctx context.Context, client kubernetes.Interface) error {
	retry := retryMin
	for {
		err := m.renew(ctx, client)
		if err == nil || ctx.Err() != nil {
			return nil
		}
		notAfter := m.Current().Leaf.NotAfter
		if m.c.StopWhenExpired && refused(err) && m.c.Clock.Now().After(notAfter.Add(ExpiredGrace)) {
			return fmt.Errorf("%w (expired %s): %w", ErrExpired, notAfter.UTC().Format(time.RFC3339), err)
		}
		m.log.Error("client certificate rotation failed; retrying", "err", err, "retryIn", retry)
		if !m.sleep(ctx, retry) {
			return nil
		}
		retry = min(2*retry, retryMax)
	}
}

// refused: the API server answered the request with an error status (as
// kubelet's ServerHealthy: it is reachable), or denied or failed it.
func refused(err error) bool {
	var status apierrors.APIStatus
	return errors.As(err, &status) || errors.Is(err, ErrDenied) || errors.Is(err, ErrFailed)
}

// renew asks for a certificate for a new key, stores the pair and makes it
// current.
func (m *Manager) renew(ctx context.Context, client kubernetes.Interface) error {
	key, err := newKey()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, renewTimeout)
	defer cancel()
	certPEM, err := requestCertificate(ctx, client, nodeRequest("", "csr-", key, m.c.NodeName), m.log)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	pair, err := m.c.Store.Update(certPEM, pemBlock("EC PRIVATE KEY", keyDER), m.c.Clock.Now())
	if err != nil {
		return fmt.Errorf("store the new client certificate: %w", err)
	}
	m.mu.Lock()
	old := m.cert.Leaf
	m.cert = pair
	m.mu.Unlock()
	m.log.Info("client certificate rotated", "oldSerial", old.SerialNumber.Text(16), "serial", pair.Leaf.SerialNumber.Text(16),
		"notAfter", pair.Leaf.NotAfter.UTC().Format(time.RFC3339), "cert", m.c.Store.CurrentPath())
	if m.c.OnRotate != nil {
		m.c.OnRotate()
	}
	return nil
}

// sleep waits d on the clock; false when ctx ended first.
func (m *Manager) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := m.c.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C():
		return true
	}
}
