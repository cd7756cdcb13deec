package apiauth

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
)

// Kubelet's defaults: authorization.webhook.cacheAuthorizedTTL and
// cacheUnauthorizedTTL.
const (
	DefaultAllowCacheTTL = 5 * time.Minute
	DefaultDenyCacheTTL  = 30 * time.Second
)

// AccessReviewer creates SubjectAccessReviews: client-go's
// SubjectAccessReviewInterface.
type AccessReviewer interface {
	Create(ctx context.Context, sar *authorizationv1.SubjectAccessReview, opts metav1.CreateOptions) (*authorizationv1.SubjectAccessReview, error)
}

// AuthorizerConfig says whom an Authorizer asks and how long it trusts the
// answers.
type AuthorizerConfig struct {
	Reviews AccessReviewer
	// AllowTTL and DenyTTL: 0 means the defaults.
	AllowTTL, DenyTTL time.Duration
	// Clock; nil: the real one.
	Clock clock.PassiveClock
}

// Authorizer asks the API server whether a user may do what a request
// asks.
type Authorizer struct {
	reviews           AccessReviewer
	allowTTL, denyTTL time.Duration
	cache             *ttlCache[string, decision]
}

type decision struct {
	allowed bool
	reason  string
}

// NewAuthorizer applies the defaults to cfg.
func NewAuthorizer(cfg AuthorizerConfig) *Authorizer {
	if cfg.AllowTTL == 0 {
		cfg.AllowTTL = DefaultAllowCacheTTL
	}
	if cfg.DenyTTL == 0 {
		cfg.DenyTTL = DefaultDenyCacheTTL
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	return &Authorizer{reviews: cfg.Reviews, allowTTL: cfg.AllowTTL, denyTTL: cfg.DenyTTL,
		cache: newTTLCache[string, decision](cfg.Clock, cacheEntries)}
}

// Authorize reports whether at is allowed, with the API server's reason
// when it is not. A failed review is an error, and not cached.
func (a *Authorizer) Authorize(ctx context.Context, at Attributes) (bool, string, error) {
	spec := reviewSpec(at)
	keyJSON, err := json.Marshal(spec)
	if err != nil {
		return false, "", err
	}
	key := string(keyJSON)
	if d, ok := a.cache.get(key); ok {
		return d.allowed, d.reason, nil
	}
	ctx, cancel := context.WithTimeout(ctx, reviewTimeout)
	defer cancel()
	sar, err := a.reviews.Create(ctx, &authorizationv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
	if err != nil {
		return false, "", fmt.Errorf("subject access review: %w", err)
	}
	d := decision{allowed: sar.Status.Allowed, reason: sar.Status.Reason}
	ttl := a.denyTTL
	if d.allowed {
		ttl = a.allowTTL
	}
	a.cache.set(key, d, ttl)
	return d.allowed, d.reason, nil
}

// reviewSpec asks about nodes/<subresource> of this node in the core group.
func reviewSpec(at Attributes) authorizationv1.SubjectAccessReviewSpec {
	spec := authorizationv1.SubjectAccessReviewSpec{User: at.User.Name, UID: at.User.UID, Groups: at.User.Groups,
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: at.Verb, Version: "v1", Resource: "nodes",
			Subresource: at.Subresource, Name: at.Node}}
	if len(at.User.Extra) > 0 {
		spec.Extra = map[string]authorizationv1.ExtraValue{}
		for k, v := range at.User.Extra {
			spec.Extra[k] = v
		}
	}
	return spec
}
