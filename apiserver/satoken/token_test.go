package satoken

import (
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

func newSigner(t *testing.T, issuer string) *Signer {
	t.Helper()
	key, err := LoadOrCreateKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(issuer, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func claims(now time.Time, ttl time.Duration, aud ...string) Claims {
	return Claims{Claims: jwt.Claims{Subject: "system:serviceaccount:default:web", Audience: aud,
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(ttl)), ID: "jti-1"},
		Kubernetes: Kubernetes{Namespace: "default", ServiceAccount: Ref{Name: "web", UID: "sa-uid"}, Pod: &Ref{Name: "web-0", UID: "pod-uid"}}}
}

func TestSignAndVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := newSigner(t, "https://kubernetes.default.svc.cluster.local")
	tok, err := s.Sign(claims(now, time.Hour, "api", "vault"))
	if err != nil {
		t.Fatal(err)
	}
	c, auds, err := s.Verify(tok, []string{"vault", "other"}, now.Add(30*time.Minute))
	if err != nil || len(auds) != 1 || auds[0] != "vault" {
		t.Fatalf("verify: %v %v", err, auds)
	}
	if c.Issuer != "https://kubernetes.default.svc.cluster.local" || c.Kubernetes.Pod.UID != "pod-uid" || c.Kubernetes.ServiceAccount.Name != "web" {
		t.Errorf("claims %+v", c)
	}
	// The header names the algorithm and the key.
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	var h map[string]string
	json.Unmarshal(header, &h)
	if h["alg"] != "ES256" || h["typ"] != "JWT" || h["kid"] != s.JWKS().Keys[0].KeyID {
		t.Errorf("header %v", h)
	}

	other := newSigner(t, "https://kubernetes.default.svc.cluster.local")
	foreign, _ := other.Sign(claims(now, time.Hour, "api"))
	elsewhere, err := NewSigner("https://elsewhere", s.key) // same key, other issuer
	if err != nil {
		t.Fatal(err)
	}
	wrongIssuer, _ := elsewhere.Sign(claims(now, time.Hour, "api"))
	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), "web-0", "web-1", 1))) + "." + parts[2]
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1] + "."
	for _, tc := range []struct {
		name  string
		token string
		auds  []string
		at    time.Time
		want  error
	}{
		{"expired", tok, []string{"api"}, now.Add(time.Hour + 2*time.Minute), ErrExpired},
		{"within the leeway", tok, []string{"api"}, now.Add(time.Hour + 30*time.Second), nil},
		{"not yet", tok, []string{"api"}, now.Add(-5 * time.Minute), ErrNotYet},
		{"other audience", tok, []string{"kubelet"}, now, ErrAudience},
		{"another key", foreign, []string{"api"}, now, ErrInvalid},
		{"another issuer", wrongIssuer, []string{"api"}, now, ErrIssuer},
		{"tampered", tampered, []string{"api"}, now, ErrInvalid},
		{"alg none", none, []string{"api"}, now, ErrInvalid},
		{"garbage", "a.b.c", []string{"api"}, now, ErrInvalid},
	} {
		if _, _, err := s.Verify(tc.token, tc.auds, tc.at); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// The key is made once, 0600, and read back on the next start.
func TestSigningKeyIsKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	k1, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v %v", err, fi.Mode())
	}
	k2, err := LoadOrCreateKey(dir)
	if err != nil || !k1.Equal(k2) {
		t.Fatalf("second start: %v", err)
	}
	var _ *ecdsa.PrivateKey = k2
}
