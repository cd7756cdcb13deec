package apiauth

import (
	"fmt"
	"log/slog"
	"net/http"
)

// Filter guards a handler: 401 without credentials that hold, 403 unless
// the API server allows the request, 500 when it cannot be asked.
type Filter struct {
	authn *Authenticator
	authz *Authorizer
	node  string
	log   *slog.Logger
}

// NewFilter guards the API of node.
func NewFilter(authn *Authenticator, authz *Authorizer, node string, log *slog.Logger) *Filter {
	return &Filter{authn: authn, authz: authz, node: node, log: log}
}

// Wrap returns next behind authentication and authorization.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := f.authn.Authenticate(r)
		if err != nil {
			f.log.Debug("unauthenticated request", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		at := RequestAttributes(u, r, f.node)
		allowed, reason, err := f.authz.Authorize(r.Context(), at)
		if err != nil {
			f.log.Error("authorization failed", "user", u.Name, "path", r.URL.Path, "err", err)
			http.Error(w, describe("Authorization error", at), http.StatusInternalServerError)
			return
		}
		if !allowed {
			f.log.Debug("forbidden", "user", u.Name, "path", r.URL.Path, "reason", reason)
			http.Error(w, describe("Forbidden", at), http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// describe words a refusal as kubelet does.
func describe(what string, at Attributes) string {
	return fmt.Sprintf("%s (user=%s, verb=%s, resource=nodes, subresource=%s)", what, at.User.Name, at.Verb, at.Subresource)
}
