package apiserver

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/nodeagent/nodeagent/apiserver/auth"
)

// User impersonation, as kube-apiserver's: the Impersonate-User,
// Impersonate-Uid, Impersonate-Group and Impersonate-Extra-<key> headers
// make the request act as another user, when the caller may "impersonate"
// each of them: users, groups, serviceaccounts (a user named
// system:serviceaccount:NS:NAME), userextras/<key> and uids. The
// impersonated user is authenticated (system:authenticated); a service
// account without impersonated groups gets its own.

const (
	headerImpersonateUser  = "Impersonate-User"
	headerImpersonateUID   = "Impersonate-Uid"
	headerImpersonateGroup = "Impersonate-Group"
	headerImpersonateExtra = "Impersonate-Extra-"
	groupUnauthenticated   = "system:unauthenticated"
	userAnonymous          = "system:anonymous"
)

// impersonation is one thing the caller asks to act as, and the
// authorizer's attributes of that ask.
type impersonation struct {
	at auth.Attributes
}

// impersonate returns the user the request acts as: user itself without
// impersonation headers.
func (s *Server) impersonate(r *http.Request, user *auth.User) (*auth.User, error) {
	asks, err := impersonations(r.Header)
	if err != nil || len(asks) == 0 {
		return user, err
	}
	as := &auth.User{}
	groupsGiven := len(r.Header.Values(headerImpersonateGroup)) > 0
	for _, ask := range asks {
		at := ask.at
		at.User, at.Verb, at.ResourceRequest = user, "impersonate", true
		ok, reason, err := s.authz.Authorize(r.Context(), at)
		if err != nil || !ok {
			return nil, forbidden(err, reason, schema.GroupResource{Group: at.APIGroup, Resource: at.Resource}, at.Name)
		}
		applyImpersonation(as, at, groupsGiven)
	}
	switch {
	case as.Name == userAnonymous:
		as.Groups = appendMissing(as.Groups, groupUnauthenticated)
	default:
		as.Groups = appendMissing(as.Groups, auth.GroupAuthenticated)
	}
	return as, nil
}

func applyImpersonation(as *auth.User, at auth.Attributes, groupsGiven bool) {
	switch at.Resource {
	case "users":
		as.Name = at.Name
	case "serviceaccounts":
		as.Name = auth.ServiceAccountUser(at.Namespace, at.Name)
		if !groupsGiven {
			as.Groups = append(as.Groups, auth.GroupServiceAccounts, auth.GroupServiceAccounts+":"+at.Namespace)
		}
	case "groups":
		as.Groups = append(as.Groups, at.Name)
	case "userextras":
		if as.Extra == nil {
			as.Extra = map[string][]string{}
		}
		as.Extra[at.Subresource] = append(as.Extra[at.Subresource], at.Name)
	case "uids":
		as.UID = at.Name
	}
}

func appendMissing(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// impersonations reads the headers; groups, extras or a UID without a
// user is kube's error.
func impersonations(h http.Header) ([]impersonation, error) {
	var out []impersonation
	user := h.Get(headerImpersonateUser)
	if user != "" {
		if ns, name, ok := serviceAccountName(user); ok {
			out = append(out, impersonation{auth.Attributes{Resource: "serviceaccounts", Namespace: ns, Name: name}})
		} else {
			out = append(out, impersonation{auth.Attributes{Resource: "users", Name: user}})
		}
	}
	others := false
	for _, g := range h.Values(headerImpersonateGroup) {
		others = true
		out = append(out, impersonation{auth.Attributes{Resource: "groups", Name: g}})
	}
	for key, values := range h {
		if !strings.HasPrefix(key, headerImpersonateExtra) {
			continue
		}
		extra, err := url.PathUnescape(strings.ToLower(strings.TrimPrefix(key, headerImpersonateExtra)))
		if err != nil {
			return nil, apierrors.NewInternalError(fmt.Errorf("malformed extra key for impersonation request: %w", err))
		}
		for _, v := range values {
			others = true
			out = append(out, impersonation{auth.Attributes{APIGroup: "authentication.k8s.io", Resource: "userextras", Subresource: extra, Name: v}})
		}
	}
	if uid := h.Get(headerImpersonateUID); uid != "" {
		others = true
		out = append(out, impersonation{auth.Attributes{APIGroup: "authentication.k8s.io", Resource: "uids", Name: uid}})
	}
	if others && user == "" {
		return nil, apierrors.NewInternalError(fmt.Errorf("requested %v without impersonating a user", out))
	}
	return out, nil
}

// serviceAccountName splits system:serviceaccount:NS:NAME.
func serviceAccountName(user string) (string, string, bool) {
	rest, ok := strings.CutPrefix(user, "system:serviceaccount:")
	if !ok {
		return "", "", false
	}
	ns, name, ok := strings.Cut(rest, ":")
	return ns, name, ok && ns != "" && name != "" && !strings.Contains(name, ":")
}
