package apiauth

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
)

// Kubelet's defaults: authentication.webhook.cacheTTL (for tokens the API
// server confirmed and for those it did not) and the review's timeout.
const (
	DefaultTokenCacheTTL = 2 * time.Minute
	reviewTimeout        = 10 * time.Second
	cacheEntries         = 4096
)

// TokenReviewer creates TokenReviews: client-go's TokenReviewInterface.
type TokenReviewer interface {
	Create(ctx context.Context, tr *authenticationv1.TokenReview, opts metav1.CreateOptions) (*authenticationv1.TokenReview, error)
}

// ErrUnauthenticated means the request carried no credentials that hold.
var ErrUnauthenticated = errors.New("Unauthorized")

var errInvalidToken = errors.New("invalid bearer token")

// AuthenticatorConfig says what an Authenticator trusts.
type AuthenticatorConfig struct {
	// ClientCA verifies client certificates; nil: none are accepted.
	ClientCA *x509.CertPool
	// Tokens reviews bearer tokens; nil: none are accepted.
	Tokens TokenReviewer
	// CacheTTL is how long a token's review is reused; 0: DefaultTokenCacheTTL.
	CacheTTL time.Duration
	// Clock; nil: the real one.
	Clock clock.PassiveClock
}

// Authenticator identifies the caller of a request.
type Authenticator struct {
	clientCA *x509.CertPool
	tokens   TokenReviewer
	ttl      time.Duration
	clock    clock.PassiveClock
	cache    *ttlCache[[sha256.Size]byte, *User] // nil: not authenticated
}

// NewAuthenticator applies the defaults to cfg.
func NewAuthenticator(cfg AuthenticatorConfig) *Authenticator {
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = DefaultTokenCacheTTL
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	return &Authenticator{clientCA: cfg.ClientCA, tokens: cfg.Tokens, ttl: cfg.CacheTTL, clock: cfg.Clock,
		cache: newTTLCache[[sha256.Size]byte, *User](cfg.Clock, cacheEntries)}
}

// Authenticate tries the client certificate, then the bearer token; the
// first that holds names the user. The error wraps ErrUnauthenticated.
func (a *Authenticator) Authenticate(r *http.Request) (*User, error) {
	var errs []error
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		u, err := a.fromCert(r.TLS.PeerCertificates)
		if err == nil {
			return u, nil
		}
		errs = append(errs, err)
	}
	if token, ok := bearerToken(r); ok {
		u, err := a.fromToken(r.Context(), token)
		if err == nil {
			return u, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil, ErrUnauthenticated
	}
	return nil, fmt.Errorf("%w: %w", ErrUnauthenticated, errors.Join(errs...))
}

// fromCert verifies the chain for client authentication at the clock's
// time; the user is the CN, the groups the O.
func (a *Authenticator) fromCert(chain []*x509.Certificate) (*User, error) {
	if a.clientCA == nil {
		return nil, errors.New("client certificates are not accepted: no client CA")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{Roots: a.clientCA, Intermediates: inter, CurrentTime: a.clock.Now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		return nil, fmt.Errorf("client certificate: %w", err)
	}
	s := chain[0].Subject
	if s.CommonName == "" {
		return nil, errors.New("client certificate: the common name is empty")
	}
	u := &User{Name: s.CommonName, Groups: append([]string(nil), s.Organization...)}
	return u.withAuthenticatedGroup(), nil
}

// bearerToken reads "Authorization: Bearer <token>" (scheme in any case).
func bearerToken(r *http.Request) (string, bool) {
	parts := strings.Fields(r.Header.Get("Authorization"))
	if len(parts) != 2 || !strings.EqualFold(parts[0], "bearer") {
		return "", false
	}
	return parts[1], true
}

// fromToken asks the API server about the token, or reuses its answer.
// Failed reviews are not cached.
func (a *Authenticator) fromToken(ctx context.Context, token string) (*User, error) {
	if a.tokens == nil {
		return nil, errors.New("bearer tokens are not accepted")
	}
	key := sha256.Sum256([]byte(token))
	if u, ok := a.cache.get(key); ok {
		return tokenUser(u)
	}
	ctx, cancel := context.WithTimeout(ctx, reviewTimeout)
	defer cancel()
	tr, err := a.tokens.Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("token review: %w", err)
	}
	var u *User
	if tr.Status.Authenticated {
		u = reviewedUser(tr.Status.User)
	}
	a.cache.set(key, u, a.ttl)
	return tokenUser(u)
}

func tokenUser(u *User) (*User, error) {
	if u == nil {
		return nil, errInvalidToken
	}
	return u, nil
}

func reviewedUser(in authenticationv1.UserInfo) *User {
	u := &User{Name: in.Username, UID: in.UID, Groups: append([]string(nil), in.Groups...)}
	if len(in.Extra) > 0 {
		u.Extra = map[string][]string{}
		for k, v := range in.Extra {
			u.Extra[k] = append([]string(nil), v...)
		}
	}
	return u.withAuthenticatedGroup()
}
