package apiserver

import (
	"net/http"
	"net/http/pprof"
	"strings"
)

// profilePrefix is where kube-apiserver serves Go's profiles.
const profilePrefix = "/debug/pprof/"

// serveProfile answers /debug/pprof/ and the profiles under it when
// profiling is on. It is reached only after the request was authorized as
// a non-resource request on its path, as kube-apiserver's --profiling is:
// RBAC grants it to cluster-admin (nonResourceURLs "*"), not to nodes,
// service accounts or the view/edit/admin roles.
func (s *Server) serveProfile(w http.ResponseWriter, r *http.Request) bool {
	if !s.cfg.Profiling || (r.URL.Path != "/debug/pprof" && !strings.HasPrefix(r.URL.Path, profilePrefix)) {
		return false
	}
	switch strings.TrimPrefix(r.URL.Path, profilePrefix) {
	case "cmdline":
		pprof.Cmdline(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "trace":
		pprof.Trace(w, r)
	default:
		if r.URL.Path == "/debug/pprof" {
			http.Redirect(w, r, profilePrefix, http.StatusMovedPermanently)
			return true
		}
		pprof.Index(w, r)
	}
	return true
}
