// Package apiserver serves a kubectl-compatible subset of the Kubernetes API
// on etcd: discovery, CRUD, list and watch with resourceVersions, patches,
// Table output, defaulting and validation, TLS with authentication and
// node-scoped authorization.
package apiserver

import (
	"net/http"
	"strings"
)

// requestInfo is what a request path and method say about the request.
type requestInfo struct {
	isResource  bool
	verb        string // get list watch create update patch delete deletecollection
	group       string
	version     string
	namespace   string
	resource    string
	name        string
	subresource string
	path        string
}

// parseRequestInfo reads /api/v1/... and /apis/<group>/<version>/... paths.
func parseRequestInfo(r *http.Request) requestInfo {
	info := requestInfo{path: r.URL.Path, verb: strings.ToLower(r.Method)}
	parts := splitPath(r.URL.Path)
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		info.version, parts = parts[1], parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		info.group, info.version, parts = parts[1], parts[2], parts[3:]
	default:
		return info
	}
	info.isResource = true
	if len(parts) >= 2 && parts[0] == "namespaces" && len(parts) != 2 {
		if len(parts) == 3 && !isNamespaceSub(parts[2]) || len(parts) > 3 {
			info.namespace, parts = parts[1], parts[2:]
		}
	}
	info.resource = parts[0]
	if len(parts) > 1 {
		info.name = parts[1]
	}
	if len(parts) > 2 {
		info.subresource = strings.Join(parts[2:], "/")
	}
	info.verb = verbOf(r, info.name != "")
	return info
}

// isNamespaceSub: /api/v1/namespaces/<name>/<sub> addresses a subresource of
// the namespace itself, not a resource inside it.
func isNamespaceSub(s string) bool { return s == "status" || s == "finalize" }

func verbOf(r *http.Request, named bool) string {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if w := r.URL.Query().Get("watch"); w == "true" || w == "1" {
			return "watch"
		}
		if named {
			return "get"
		}
		return "list"
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		if named {
			return "delete"
		}
		return "deletecollection"
	}
	return strings.ToLower(r.Method)
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}
