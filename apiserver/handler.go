package apiserver

import (
	"context"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/nodeagent/nodeagent/apiserver/auth"
)

// request carries what every verb handler needs.
type request struct {
	w    http.ResponseWriter
	r    *http.Request
	ctx  context.Context
	info requestInfo
	res  *resource
	user *auth.User
	out  output
}

func (q *request) gr() schema.GroupResource { return q.res.groupResource() }

// ServeHTTP authenticates, authorizes and dispatches one request. The
// health endpoints answer anonymous callers (kube's anonymous auth limited
// to them); credentials that do not authenticate are 401 everywhere.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer s.recoverPanic(w, r)
	user, err := s.authn.Authenticate(r)
	if err != nil && (presentsCredentials(r) || !healthPath(r.URL.Path)) {
		s.writeError(w, apierrors.NewUnauthorized("Unauthorized"), schema.GroupResource{}, "")
		return
	}
	if s.serveHealth(w, r) {
		return
	}
	if user, err = s.impersonate(r, user); err != nil {
		s.writeError(w, err, schema.GroupResource{}, "")
		return
	}
	info := parseRequestInfo(r)
	if !info.isResource {
		s.serveNonResource(w, r, user, info)
		return
	}
	res, ok := s.lookup(info.group, info.version, info.resource)
	if !ok || (info.subresource != "" && !res.hasSubresource(info.subresource)) || !scopeServed(info, res.namespaced) {
		s.serveUnserved(w, r, user, info)
		return
	}
	out, err := s.codecs.negotiate(r)
	out = s.codecs.jsonForCustom(out, res)
	if err != nil {
		s.writeError(w, err, res.groupResource(), info.name)
		return
	}
	q := &request{w: w, r: r, ctx: r.Context(), info: info, res: res, user: user, out: out}
	s.serveResource(q)
}

func healthPath(p string) bool { return p == "/healthz" || p == "/livez" || p == "/readyz" }

// presentsCredentials: a client certificate or an Authorization header.
func presentsCredentials(r *http.Request) bool {
	return r.Header.Get("Authorization") != "" || (r.TLS != nil && len(r.TLS.PeerCertificates) > 0)
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) bool {
	if !healthPath(r.URL.Path) {
		return false
	}
	if err := s.ready(r.Context()); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return true
	}
	w.Write([]byte("ok"))
	return true
}

func (s *Server) serveNonResource(w http.ResponseWriter, r *http.Request, user *auth.User, info requestInfo) {
	ok, reason, err := s.authz.Authorize(r.Context(), auth.Attributes{User: user, Verb: info.verb, Path: info.path})
	if err != nil || !ok {
		s.writeError(w, forbidden(err, reason, schema.GroupResource{}, ""), schema.GroupResource{}, "")
		return
	}
	if !s.serveProfile(w, r) && !s.serveIssuerDiscovery(w, r) && !s.serveDiscovery(w, r) {
		s.writeError(w, notFoundPath(), schema.GroupResource{}, "")
	}
}

// serveUnserved answers a resource URL the server does not serve: 403 when
// the user may not make the request anyway (kube authorizes before routing),
// else 404.
func (s *Server) serveUnserved(w http.ResponseWriter, r *http.Request, user *auth.User, info requestInfo) {
	gr := schema.GroupResource{Group: info.group, Resource: info.resource}
	ok, reason, err := s.authz.Authorize(r.Context(), auth.Attributes{User: user, Verb: info.verb, APIGroup: info.group,
		Resource: info.resource, Subresource: info.subresource, Namespace: info.namespace, Name: info.name,
		ResourceRequest: true, Path: info.path})
	if err != nil || !ok {
		s.writeError(w, forbidden(err, reason, gr, info.name), gr, info.name)
		return
	}
	s.writeError(w, notFoundPath(), schema.GroupResource{}, "")
}

func forbidden(err error, reason string, gr schema.GroupResource, name string) error {
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	return apierrors.NewForbidden(gr, name, errorString(reason))
}

type errorString string

func (e errorString) Error() string { return string(e) }

// authorize checks q against the authorizer, before any body is read, as
// kube-apiserver does: a create has no name here (admission sees the
// object); a list or watch is named by a metadata.name field selector.
func (s *Server) authorize(q *request) error {
	at := auth.Attributes{User: q.user, Verb: q.info.verb, APIGroup: q.info.group, Resource: q.info.resource,
		Subresource: q.info.subresource, Namespace: q.info.namespace, Name: q.info.name,
		ResourceRequest: true, Path: q.info.path, FieldName: fieldSelectorName(q.r), FieldSelector: fieldRequirements(q.r)}
	if at.Name == "" && (at.Verb == "list" || at.Verb == "watch") {
		at.Name = at.FieldName
	}
	ok, reason, err := s.authz.Authorize(q.ctx, at)
	if err != nil || !ok {
		return forbidden(err, reason, q.gr(), at.Name)
	}
	return nil
}

func (s *Server) serveResource(q *request) {
	if err := s.authorize(q); err != nil {
		s.writeError(q.w, err, q.gr(), q.info.name)
		return
	}
	if !methodAllowed(q.info, q.res.namespaced) || !q.res.allowsVerb(q.info.subresource, q.info.verb) {
		s.writeError(q.w, methodNotAllowed(), q.gr(), q.info.name)
		return
	}
	if q.res.virtual {
		s.serveReview(q)
		return
	}
	var err error
	switch q.info.verb {
	case "create":
		err = s.create(q)
	case "get":
		err = s.serveGet(q)
	case "list":
		err = s.serveList(q)
	case "watch":
		err = s.serveWatch(q)
	case "update":
		err = s.serveUpdate(q)
	case "patch":
		err = s.servePatch(q)
	case "delete":
		err = s.serveDelete(q)
	case "deletecollection":
		err = s.serveDeleteCollection(q)
	default:
		err = methodNotAllowed()
	}
	if err != nil {
		s.writeError(q.w, err, q.gr(), q.info.name)
	}
}
