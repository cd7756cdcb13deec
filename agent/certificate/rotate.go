package certificate

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
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
	// Identity, when set, is the client identity the certificate is for
	// instead of the node's (the node's proxy: system:kube-proxy); the
	// renewals are asked for with the node's credentials.
	Identity *Identity
	// Names, when set, makes this the node's serving certificate manager
	// (kubelet's --rotate-server-certificates): it asks the kubelet-serving
	// signer for a certificate for these names, and has none (Initial is
	// not used) until one is issued or the Store's covers them.
	Names func() Names
}

// Identity is a client certificate's subject other than the node's, the
// signer asked and what the CSRs' names begin with.
type Identity struct {
	Subject      pkix.Name
	Signer       string
	GenerateName string
}

// Manager holds the node's client or serving certificate (or the client
// certificate of another Identity) and renews it.
type Manager struct {
	c   ManagerConfig
	log *slog.Logger

	mu   sync.RWMutex
	cert *tls.Certificate
}

// NewManager starts from the Store's current pair when it is valid now
// (and, for a serving certificate, covers the names), else from
// c.Initial (a client certificate).
func NewManager(c ManagerConfig, log *slog.Logger) (*Manager, error) {
	m := &Manager{c: c, log: log}
	cert := c.Initial
	if m.serving() {
		cert = nil
	}
	stored, err := c.Store.Current()
	switch {
	case err == nil && validAt(stored.Leaf, c.Clock.Now()) && (!m.serving() || covers(stored.Leaf, c.Names())):
		cert = stored
		log.Info(m.what()+" from the cert dir", "cert", c.Store.CurrentPath(), "notAfter", stored.Leaf.NotAfter)
	case err == nil && m.serving():
		log.Info("the cert dir's serving certificate expired or no longer covers the node's names; asking for a new one", "cert", c.Store.CurrentPath())
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		log.Warn("the cert dir's current "+m.what()+" is unusable", "err", err)
	}
	if !m.serving() && (cert == nil || cert.Leaf == nil) {
		return nil, errors.New("no client certificate to rotate")
	}
	m.cert = cert
	return m, nil
}

func (m *Manager) serving() bool { return m.c.Names != nil }

// what names the certificate in messages.
func (m *Manager) what() string {
	switch {
	case m.serving():
		return "serving certificate"
	case m.c.Identity != nil:
		return m.c.Identity.Subject.CommonName + " client certificate"
	}
	return "client certificate"
}

// covers: leaf is for every one of names.
func covers(leaf *x509.Certificate, names Names) bool {
	for _, d := range names.DNS {
		if !slices.Contains(leaf.DNSNames, d) {
			return false
		}
	}
	for _, ip := range names.IPs {
		if !slices.ContainsFunc(leaf.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}

// Current is the certificate the node presents now; a serving manager's
// is nil until the first one is issued.
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

// ErrNoServingCertificate: the serving certificate was not issued yet.
var ErrNoServingCertificate = errors.New("no serving certificate yet: its certificate signing request waits for approval")

// GetCertificate is a server tls.Config's: the current serving
// certificate, asked for on every handshake.
func (m *Manager) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	if c := m.Current(); c != nil {
		return c, nil
	}
	return nil, ErrNoServingCertificate
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
	if m.Current() == nil { // a serving certificate not issued yet
		if err := m.renewUntilDone(ctx, client); err != nil || ctx.Err() != nil {
			return err
		}
	}
	for {
		leaf := m.Current().Leaf
		deadline := rotationDeadline(leaf.NotBefore, leaf.NotAfter, m.c.Jitter())
		m.log.Info(m.what()+" rotation scheduled", "notAfter", leaf.NotAfter.UTC().Format(time.RFC3339), "rotateAt", deadline.UTC().Format(time.RFC3339))
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
		if cur := m.Current(); cur != nil && m.c.StopWhenExpired && refused(err) && m.c.Clock.Now().After(cur.Leaf.NotAfter.Add(ExpiredGrace)) {
			return fmt.Errorf("%w (expired %s): %w", ErrExpired, cur.Leaf.NotAfter.UTC().Format(time.RFC3339), err)
		}
		m.log.Error(m.what()+" rotation failed; retrying", "err", err, "retryIn", retry)
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
	r := nodeRequest("", "csr-", key, m.c.NodeName)
	switch id := m.c.Identity; {
	case m.serving():
		r = servingRequest(key, m.c.NodeName, m.c.Names())
	case id != nil:
		r = request{generateName: id.GenerateName, key: key, subject: id.Subject, signer: id.Signer, usages: clientUsages}
	}
	certPEM, err := requestCertificate(ctx, client, r, m.log)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	pair, err := m.c.Store.Update(certPEM, pemBlock("EC PRIVATE KEY", keyDER), m.c.Clock.Now())
	if err != nil {
		return fmt.Errorf("store the new %s: %w", m.what(), err)
	}
	m.mu.Lock()
	old := m.cert
	m.cert = pair
	m.mu.Unlock()
	attrs := []any{"serial", pair.Leaf.SerialNumber.Text(16), "notAfter", pair.Leaf.NotAfter.UTC().Format(time.RFC3339), "cert", m.c.Store.CurrentPath()}
	if old == nil {
		m.log.Info(m.what()+" issued", attrs...)
	} else {
		m.log.Info(m.what()+" rotated", append(attrs, "oldSerial", old.Leaf.SerialNumber.Text(16))...)
	}
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
