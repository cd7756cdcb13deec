// Package satoken issues and verifies kube's bound service account tokens:
// JWTs signed ES256 with the server's key, with the issuer, audiences,
// expiry, and the objects the token is bound to (service account, and pod,
// secret or node) in the "kubernetes.io" claim. Whether those objects
// still exist is for the caller to check (it has the storage).
package satoken

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Ref names a bound object.
type Ref struct {
	Name string `json:"name,omitempty"`
	UID  string `json:"uid,omitempty"`
}

// Kubernetes is the private claim "kubernetes.io", as kube writes it.
type Kubernetes struct {
	Namespace      string           `json:"namespace,omitempty"`
	ServiceAccount Ref              `json:"serviceaccount,omitempty"`
	Pod            *Ref             `json:"pod,omitempty"`
	Secret         *Ref             `json:"secret,omitempty"`
	Node           *Ref             `json:"node,omitempty"`
	WarnAfter      *jwt.NumericDate `json:"warnafter,omitempty"`
}

// Claims are a token's claims.
type Claims struct {
	jwt.Claims
	Kubernetes Kubernetes `json:"kubernetes.io"`
}

// leeway is the clock skew allowed on exp, nbf and iat (go-jose's and
// kube's default).
const leeway = time.Minute

// Errors Verify returns, worded as kube's authenticator words them.
var (
	ErrExpired  = errors.New("service account token has expired")
	ErrNotYet   = errors.New("service account token is not valid yet")
	ErrAudience = errors.New("token audiences don't match")
	ErrIssuer   = errors.New("token issuer is not this server's")
	ErrInvalid  = errors.New("invalid bearer token")
)

// Signer signs and verifies tokens of one issuer with one key.
type Signer struct {
	issuer string
	key    *ecdsa.PrivateKey
	kid    string
	signer jose.Signer
}

// NewSigner signs as issuer with key.
func NewSigner(issuer string, key *ecdsa.PrivateKey) (*Signer, error) {
	kid, err := keyID(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("token signer: %w", err)
	}
	return &Signer{issuer: issuer, key: key, kid: kid, signer: sig}, nil
}

// Issuer is the iss of the tokens.
func (s *Signer) Issuer() string { return s.issuer }

// Sign sets the issuer and signs the claims.
func (s *Signer) Sign(c Claims) (string, error) {
	c.Issuer = s.issuer
	tok, err := jwt.Signed(s.signer).Claims(c).Serialize()
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return tok, nil
}

// Verify checks a token's signature, issuer and validity at now, and that
// one of its audiences is among audiences; it returns the claims and the
// audiences both have. A token of another issuer or key is ErrInvalid.
func (s *Signer) Verify(token string, audiences []string, now time.Time) (*Claims, []string, error) {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, nil, ErrInvalid
	}
	var c Claims
	if err := tok.Claims(&s.key.PublicKey, &c); err != nil {
		return nil, nil, ErrInvalid
	}
	if c.Issuer != s.issuer {
		return nil, nil, ErrIssuer
	}
	switch err := c.Claims.ValidateWithLeeway(jwt.Expected{Time: now}, leeway); {
	case errors.Is(err, jwt.ErrExpired):
		return nil, nil, ErrExpired
	case errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
		return nil, nil, ErrNotYet
	case err != nil:
		return nil, nil, ErrInvalid
	}
	var both []string
	for _, a := range c.Audience {
		if slices.Contains(audiences, a) {
			both = append(both, a)
		}
	}
	if len(both) == 0 {
		return nil, nil, ErrAudience
	}
	return &c, both, nil
}

// JWKS is the public key set of the issuer discovery document.
func (s *Signer) JWKS() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &s.key.PublicKey, KeyID: s.kid, Algorithm: string(jose.ES256), Use: "sig"}}}
}
