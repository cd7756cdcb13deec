// Package auth authenticates requests (client certificates signed by the
// server's CA, bearer tokens from a static token file, the server's own
// service account tokens) and authorizes them as kube-apiserver's
// Node,RBAC chain: system:masters may do anything; a node may do what a
// node needs, as Kubernetes' Node authorizer allows; then RBAC (rbac.go)
// allows what the roles bound to the user grant, read from RBACIndex, an
// in-memory index the server feeds from a watch, which also answers
// escalation checks (rbac_escalation.go).
package auth

import (
	"context"
	"crypto/x509"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// Well-known users and groups.
const (
	GroupMasters       = "system:masters"
	GroupNodes         = "system:nodes"
	GroupAuthenticated = "system:authenticated"
	// GroupServiceAccounts holds every service account.
	GroupServiceAccounts = "system:serviceaccounts"
	NodeUserPrefix       = "system:node:"
)

// User is an authenticated identity.
type User struct {
	Name   string
	UID    string
	Groups []string
	// Extra is what else the authenticator knows (a service account
	// token's pod and node), as kube's user.Info extra.
	Extra map[string][]string
}

// InGroup reports whether the user is in group g.
func (u *User) InGroup(g string) bool {
	for _, x := range u.Groups {
		if x == g {
			return true
		}
	}
	return false
}

// NodeName returns the node a node identity speaks for, if it is one.
func (u *User) NodeName() (string, bool) {
	if !u.InGroup(GroupNodes) || !strings.HasPrefix(u.Name, NodeUserPrefix) {
		return "", false
	}
	name := strings.TrimPrefix(u.Name, NodeUserPrefix)
	return name, name != ""
}

// BoundTokens authenticates the server's own service account tokens: a
// token valid for one of audiences, whose bound objects still exist. It
// returns the user and the audiences the token and audiences share.
type BoundTokens interface {
	AuthenticateBound(ctx context.Context, token string, audiences []string) (*User, []string, error)
}

// BootstrapTokens authenticates bootstrap tokens ("<id>.<secret>"): the
// user system:bootstrap:<id>, or an error for a token it does not accept.
type BootstrapTokens interface {
	AuthenticateBootstrap(ctx context.Context, token string) (*User, error)
}

// Authenticator knows the CA for client certificates, the static tokens
// and, once set, the service account and bootstrap tokens.
type Authenticator struct {
	roots     *x509.CertPool
	tokens    map[string]User
	bound     BoundTokens
	bootstrap BootstrapTokens
	// audiences are the API server's own audiences (kube's
	// --api-audiences): a request's token must be meant for one of them.
	audiences []string
}

// NewAuthenticator trusts client certificates signed by roots and the given
// tokens (token -> user).
func NewAuthenticator(roots *x509.CertPool, tokens map[string]User) *Authenticator {
	return &Authenticator{roots: roots, tokens: tokens}
}

// SetBoundTokens adds service account tokens meant for audiences (the
// API server's) to what authenticates.
func (a *Authenticator) SetBoundTokens(b BoundTokens, audiences []string) {
	a.bound, a.audiences = b, audiences
}

// SetBootstrapTokens adds bootstrap tokens to what authenticates.
func (a *Authenticator) SetBootstrapTokens(b BootstrapTokens) { a.bootstrap = b }

// Audiences are the API server's audiences.
func (a *Authenticator) Audiences() []string { return a.audiences }

// ErrUnauthorized means no valid credentials were presented.
var ErrUnauthorized = errors.New("Unauthorized")

// Authenticate identifies the caller of r.
func (a *Authenticator) Authenticate(r *http.Request) (*User, error) {
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		return a.fromCert(r.TLS.PeerCertificates)
	}
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		token := strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
		if u, _, err := a.AuthenticateToken(r.Context(), token, a.audiences); err == nil {
			return u, nil
		}
	}
	return nil, ErrUnauthorized
}

// AuthenticateToken identifies the user of a bearer token (as for a
// TokenReview) meant for one of audiences (nil: the server's); the user is
// in system:authenticated. A static token is good for any audience: the
// audiences asked for are confirmed.
func (a *Authenticator) AuthenticateToken(ctx context.Context, token string, audiences []string) (*User, []string, error) {
	if len(audiences) == 0 {
		audiences = a.audiences
	}
	if u, ok := a.tokens[token]; ok && token != "" {
		return withAuthenticated(u), audiences, nil
	}
	if a.bootstrap != nil && IsBootstrapToken(token) {
		u, err := a.bootstrap.AuthenticateBootstrap(ctx, token)
		if err != nil {
			return nil, nil, err
		}
		return withAuthenticated(*u), audiences, nil
	}
	if a.bound == nil || strings.Count(token, ".") != 2 {
		return nil, nil, ErrUnauthorized
	}
	u, auds, err := a.bound.AuthenticateBound(ctx, token, audiences)
	if err != nil {
		return nil, nil, err
	}
	return withAuthenticated(*u), auds, nil
}

func (a *Authenticator) fromCert(chain []*x509.Certificate) (*User, error) {
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{Roots: a.roots, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		return nil, fmt.Errorf("%w: client certificate: %v", ErrUnauthorized, err)
	}
	s := chain[0].Subject
	return withAuthenticated(User{Name: s.CommonName, Groups: s.Organization}), nil
}

func withAuthenticated(u User) *User {
	out := u
	out.Groups = append(append([]string(nil), u.Groups...), GroupAuthenticated)
	return &out
}

// LoadTokenFile reads a static token file in kube-apiserver's format:
// token,user,uid,"group1,group2" — one line each.
func LoadTokenFile(path string) (map[string]User, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseTokens(f)
}

// ParseTokens parses the token file format.
func ParseTokens(r io.Reader) (map[string]User, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	out := map[string]User{}
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("token file: %w", err)
		}
		if len(rec) < 3 || rec[0] == "" || rec[1] == "" {
			return nil, fmt.Errorf("token file line %d: want token,user,uid[,\"groups\"]", line)
		}
		u := User{Name: rec[1], UID: rec[2]}
		if len(rec) > 3 && rec[3] != "" {
			u.Groups = strings.Split(rec[3], ",")
		}
		out[rec[0]] = u
	}
}
