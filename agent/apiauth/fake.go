package apiauth

import (
	"context"
	"fmt"
	"sync"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var (
	_ TokenReviewer  = &FakeTokenReviews{}
	_ AccessReviewer = &FakeAccessReviews{}
)

// FakeTokenReviews is an API server's TokenReview: a token table, with
// the reviews it answered counted. Err, when set, fails every review.
type FakeTokenReviews struct {
	mu     sync.Mutex
	tokens map[string]authenticationv1.UserInfo
	calls  int
	Err    error
}

// SetToken makes token authenticate as u (nil: not at all).
func (f *FakeTokenReviews) SetToken(token string, u *authenticationv1.UserInfo) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tokens == nil {
		f.tokens = map[string]authenticationv1.UserInfo{}
	}
	if u == nil {
		delete(f.tokens, token)
		return
	}
	f.tokens[token] = *u
}

// Calls is how many reviews were asked for.
func (f *FakeTokenReviews) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// Create answers as kube-apiserver does.
func (f *FakeTokenReviews) Create(_ context.Context, tr *authenticationv1.TokenReview, _ metav1.CreateOptions) (*authenticationv1.TokenReview, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.Err != nil {
		return nil, f.Err
	}
	out := tr.DeepCopy()
	if u, ok := f.tokens[tr.Spec.Token]; ok {
		out.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: u}
	} else {
		out.Status = authenticationv1.TokenReviewStatus{Error: "invalid bearer token"}
	}
	return out, nil
}

// FakeAccessReviews is an API server's SubjectAccessReview: a set of
// allowed (user, verb, nodes/subresource, node) grants, plus users allowed
// everything; the reviews it answered are counted. Err fails every review.
type FakeAccessReviews struct {
	mu     sync.Mutex
	grants map[string]bool
	specs  []authorizationv1.SubjectAccessReviewSpec
	Err    error
}

func grantKey(user, verb, subresource, node string) string {
	return fmt.Sprintf("%s|%s|%s|%s", user, verb, subresource, node)
}

// Allow grants user verb on nodes/subresource of node; "*" as verb or
// subresource stands for any.
func (f *FakeAccessReviews) Allow(user, verb, subresource, node string) {
	f.set(grantKey(user, verb, subresource, node), true)
}

// Revoke takes back what Allow gave.
func (f *FakeAccessReviews) Revoke(user, verb, subresource, node string) {
	f.set(grantKey(user, verb, subresource, node), false)
}

func (f *FakeAccessReviews) set(key string, v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.grants == nil {
		f.grants = map[string]bool{}
	}
	f.grants[key] = v
}

// Calls is how many reviews were asked for.
func (f *FakeAccessReviews) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.specs)
}

// Specs are the reviews asked for, in order.
func (f *FakeAccessReviews) Specs() []authorizationv1.SubjectAccessReviewSpec {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]authorizationv1.SubjectAccessReviewSpec(nil), f.specs...)
}

// Create answers a resource review of nodes from the grants.
func (f *FakeAccessReviews) Create(_ context.Context, sar *authorizationv1.SubjectAccessReview, _ metav1.CreateOptions) (*authorizationv1.SubjectAccessReview, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.specs = append(f.specs, *sar.Spec.DeepCopy())
	if f.Err != nil {
		return nil, f.Err
	}
	out := sar.DeepCopy()
	ra := sar.Spec.ResourceAttributes
	if ra == nil || ra.Resource != "nodes" || ra.Group != "" {
		out.Status.Reason = "the fake reviews only nodes"
		return out, nil
	}
	for _, verb := range []string{ra.Verb, "*"} {
		for _, sub := range []string{ra.Subresource, "*"} {
			if f.grants[grantKey(sar.Spec.User, verb, sub, ra.Name)] {
				out.Status.Allowed = true
				return out, nil
			}
		}
	}
	out.Status.Reason = "no grant"
	return out, nil
}
