package apiauth

import (
	"net/http"
	"strings"
)

// GroupAuthenticated is added to every authenticated user, as kube does.
const GroupAuthenticated = "system:authenticated"

// User is an authenticated caller.
type User struct {
	Name   string
	UID    string
	Groups []string
	Extra  map[string][]string
}

func (u *User) withAuthenticatedGroup() *User {
	for _, g := range u.Groups {
		if g == GroupAuthenticated {
			return u
		}
	}
	out := *u
	out.Groups = append(append([]string(nil), u.Groups...), GroupAuthenticated)
	return &out
}

// Attributes are what a request to the agent asks for, in the API's terms:
// a verb on nodes/<subresource> of this node.
type Attributes struct {
	User        *User
	Verb        string
	Node        string
	Subresource string
	Path        string
}

// Request paths with their own subresource; all else is proxy.
var subresourcePaths = []struct{ path, subresource string }{
	{"/stats", "stats"},
	{"/metrics", "metrics"},
	{"/logs", "log"},
	{"/spec", "spec"},
}

// RequestAttributes maps a request to what is authorized, as kubelet's
// node authorizer attributes getter does.
func RequestAttributes(u *User, r *http.Request, node string) Attributes {
	at := Attributes{User: u, Verb: verbOf(r.Method), Node: node, Subresource: "proxy", Path: r.URL.Path}
	for _, p := range subresourcePaths {
		if isSubpath(r.URL.Path, p.path) {
			at.Subresource = p.subresource
			break
		}
	}
	return at
}

// verbOf is kubelet's method-to-verb mapping; other methods (HEAD, OPTIONS,
// ...) have no verb, which no rule allows but system:masters'.
func verbOf(method string) string {
	switch method {
	case http.MethodGet:
		return "get"
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		return "delete"
	}
	return ""
}

// isSubpath reports whether p is base or below it (/stats, /stats/x; not
// /statsx).
func isSubpath(p, base string) bool {
	return p == base || strings.HasPrefix(p, base+"/")
}
