package certificate

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
)

func TestRotationDeadline(t *testing.T) {
	nb := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	na := nb.Add(100 * time.Hour)
	for _, tc := range []struct {
		jitter float64
		want   time.Duration
	}{{0, 70 * time.Hour}, {0.5, 80 * time.Hour}, {0.999999, 90 * time.Hour}} {
		got := rotationDeadline(nb, na, tc.jitter).Sub(nb)
		if d := got - tc.want; d < -time.Second || d > time.Second {
			t.Errorf("jitter %v: rotate at %v after notBefore, want %v", tc.jitter, got, tc.want)
		}
	}
}

// rotationFixture is a Manager on a fake clock whose first certificate is
// valid for 100 s from t0, and a fake signer that issues 100 s ones.
type rotationFixture struct {
	clock   *clocktesting.FakeClock
	signer  *fakeSigner
	m       *Manager
	rotated atomic.Int32
}

func newRotationFixture(t *testing.T, plan ...decision) *rotationFixture {
	t.Helper()
	f := &rotationFixture{clock: clocktesting.NewFakeClock(time.Now())}
	f.signer = newFakeSigner(t, f.clock.Now, 100*time.Second, plan...)
	certPEM, keyPEM := f.signer.selfIssued(t, f.clock.Now(), f.clock.Now().Add(100*time.Second))
	initial, err := parsePair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	f.m, err = NewManager(ManagerConfig{Store: Store{Dir: filepath.Join(t.TempDir(), "pki")}, NodeName: "node-a", Initial: initial,
		Clock: f.clock, Jitter: func() float64 { return 0.5 }, OnRotate: func() { f.rotated.Add(1) }}, testLog())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// run runs the Manager until the test ends; the channel has what Run
// returned.
func (f *rotationFixture) run(t *testing.T) <-chan error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	stopped := make(chan struct{})
	go func() { defer close(stopped); done <- f.m.Run(ctx, f.signer.client) }()
	t.Cleanup(func() { cancel(); <-stopped })
	return done
}

// waitFor polls cond (real time) until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// The certificate is renewed at its deadline (80 s of 100 with jitter
// 0.5), not before; the new one is stored, current, announced, and was
// asked for as kubelet asks.
func TestManagerRotatesAtDeadline(t *testing.T) {
	f := newRotationFixture(t, approve)
	first := f.m.Current().Leaf.SerialNumber
	f.run(t)
	waitFor(t, "the rotation timer", f.clock.HasWaiters)
	f.clock.Step(79 * time.Second)
	if !f.clock.HasWaiters() || len(f.signer.requests()) != 0 {
		t.Fatalf("renewed before the deadline")
	}
	f.clock.Step(time.Second)
	waitFor(t, "the rotation", func() bool { return f.rotated.Load() == 1 })
	cur := f.m.Current().Leaf
	if cur.SerialNumber.Cmp(first) == 0 {
		t.Fatal("the current certificate did not change")
	}
	stored, err := f.m.c.Store.Current()
	if err != nil || stored.Leaf.SerialNumber.Cmp(cur.SerialNumber) != 0 {
		t.Errorf("stored pair: %v, %v", stored, err)
	}
	reqs := f.signer.requests()
	if len(reqs) != 1 || reqs[0].GenerateName != "csr-" {
		t.Fatalf("requests %d (%v)", len(reqs), reqs)
	}
	checkKubeletRequest(t, reqs[0], "node-a")
	// The next deadline is the new certificate's.
	waitFor(t, "the next rotation timer", f.clock.HasWaiters)
	f.clock.Step(79 * time.Second)
	if n := len(f.signer.requests()); n != 1 {
		t.Errorf("%d requests 79 s into the new certificate", n)
	}
}

// A denied renewal keeps the current certificate and is retried after the
// back-off; the retry's certificate is used.
func TestManagerRetriesAfterDenial(t *testing.T) {
	f := newRotationFixture(t, deny, approve)
	first := f.m.Current().Leaf.SerialNumber
	f.run(t)
	waitFor(t, "the rotation timer", f.clock.HasWaiters)
	f.clock.Step(80 * time.Second)
	waitFor(t, "the denial and the retry timer", func() bool { return f.signer.decided() == 1 && f.clock.HasWaiters() })
	if f.m.Current().Leaf.SerialNumber.Cmp(first) != 0 || f.rotated.Load() != 0 {
		t.Fatal("a denied request changed the certificate")
	}
	f.clock.Step(retryMin)
	waitFor(t, "the retried rotation", func() bool { return f.rotated.Load() == 1 })
	if f.m.Current().Leaf.SerialNumber.Cmp(first) == 0 {
		t.Error("the current certificate did not change")
	}
}

// A valid pair in the cert dir wins over the kubeconfig's, as kubelet's
// store does (it is the rotated one).
func TestNewManagerPrefersStore(t *testing.T) {
	f := newRotationFixture(t, approve)
	certPEM, keyPEM := f.signer.selfIssued(t, f.clock.Now(), f.clock.Now().Add(time.Hour))
	stored, err := f.m.c.Store.Update(certPEM, keyPEM, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(f.m.c, testLog())
	if err != nil {
		t.Fatal(err)
	}
	if !m.Current().Leaf.Equal(stored.Leaf) {
		t.Error("the stored pair is not the current one")
	}
}

// Through RotatingConfig's transport, a server that asks for client
// certificates sees the rotated one on the requests after the rotation,
// with no new client: the old connection was closed.
func TestRotatingConfigPresentsNewCertificate(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.TLS.PeerCertificates[0].SerialNumber.Text(16))
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	f := newRotationFixture(t, approve)
	var closeAll func()
	f.m.c.OnRotate = func() { closeAll() }
	cfg, closeAll, err := RotatingConfig(&rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{CAData: pemBlock("CERTIFICATE", srv.Certificate().Raw)}}, f.m)
	if err != nil {
		t.Fatal(err)
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	serial := func() string {
		resp, err := hc.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.TrimSpace(string(b))
	}
	if got, want := serial(), f.m.Current().Leaf.SerialNumber.Text(16); got != want {
		t.Fatalf("server saw serial %s, want %s", got, want)
	}
	if err := f.m.renew(context.Background(), f.signer.client); err != nil {
		t.Fatal(err)
	}
	if got, want := serial(), f.m.Current().Leaf.SerialNumber.Text(16); got != want {
		t.Errorf("after the rotation the server saw serial %s, want the new %s", got, want)
	}
}

// Renewals refused past the expiry: Run gives up with ErrExpired once the
// certificate expired ExpiredGrace ago, not before.
func TestManagerGivesUpAfterExpiry(t *testing.T) {
	f := newRotationFixture(t, deny)
	f.m.c.StopWhenExpired = true
	notAfter := f.m.Current().Leaf.NotAfter
	done := f.run(t)
	var err error
	for err == nil {
		waitFor(t, "a timer", func() bool { return f.clock.HasWaiters() || len(done) > 0 })
		select {
		case err = <-done:
		default:
			f.clock.Step(30 * time.Second)
		}
	}
	if !errors.Is(err, ErrExpired) || !errors.Is(err, ErrDenied) {
		t.Fatalf("Run: %v, want ErrExpired with the denial", err)
	}
	if now := f.clock.Now(); now.Before(notAfter.Add(ExpiredGrace)) || now.After(notAfter.Add(ExpiredGrace+retryMax)) {
		t.Errorf("gave up at expiry%+v, want after %v (and within a back-off)", now.Sub(notAfter), ExpiredGrace)
	}
}

// Renewals that do not reach the API server are tried on past the grace:
// the agent is cut off, new credentials would not help. So are refused
// ones without StopWhenExpired.
func TestManagerKeepsTryingWhenUnreachable(t *testing.T) {
	f := newRotationFixture(t, deny)
	f.m.c.StopWhenExpired = true
	f.signer.unreachable.Store(true)
	done := f.run(t)
	notAfter := f.m.Current().Leaf.NotAfter
	for f.clock.Now().Before(notAfter.Add(3 * ExpiredGrace)) {
		waitFor(t, "a timer", func() bool { return f.clock.HasWaiters() || len(done) > 0 })
		if len(done) > 0 {
			t.Fatalf("Run returned %v while the server was unreachable", <-done)
		}
		f.clock.Step(30 * time.Second)
	}
}

func TestManagerKeepsTryingWithoutStopWhenExpired(t *testing.T) {
	f := newRotationFixture(t, deny)
	done := f.run(t)
	notAfter := f.m.Current().Leaf.NotAfter
	for f.clock.Now().Before(notAfter.Add(3 * ExpiredGrace)) {
		waitFor(t, "a timer", func() bool { return f.clock.HasWaiters() || len(done) > 0 })
		if len(done) > 0 {
			t.Fatalf("Run returned %v without StopWhenExpired", <-done)
		}
		f.clock.Step(30 * time.Second)
	}
}
