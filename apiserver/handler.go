package apiserver

import (
	"context"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
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

// ServeHTTP authenticates, authorizes and dispatches one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer s.recoverPanic(w, r)
	if s.serveHealth(w, r) {
		return
	}
	user, err := s.authn.Authenticate(r)
	if err != nil {
		s.writeError(w, apierrors.NewUnauthorized("Unauthorized"), schema.GroupResource{}, "")
		return
	}
	info := parseRequestInfo(r)
	if !info.isResource {
		s.serveNonResource(w, r, user, info)
		return
	}
	res, ok := s.reg.lookup(info.group, info.version, info.resource)
	if !ok || (info.subresource != "" && !res.hasSubresource(info.subresource)) || !scopeServed(info, res.namespaced) {
		s.serveUnserved(w, r, user, info)
		return
	}
	out, err := s.codecs.negotiate(r)
	if err != nil {
		s.writeError(w, err, res.groupResource(), info.name)
		return
	}
	q := &request{w: w, r: r, ctx: r.Context(), info: info, res: res, user: user, out: out}
	s.serveResource(q)
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) bool {
	switch r.URL.Path {
	case "/healthz", "/livez", "/readyz":
		if err := s.ready(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return true
		}
		w.Write([]byte("ok"))
		return true
	}
	return false
}

func (s *Server) serveNonResource(w http.ResponseWriter, r *http.Request, user *auth.User, info requestInfo) {
	ok, reason, err := s.authz.Authorize(r.Context(), auth.Attributes{User: user, Verb: info.verb, Path: info.path})
	if err != nil || !ok {
		s.writeError(w, forbidden(err, reason, schema.GroupResource{}, ""), schema.GroupResource{}, "")
		return
	}
	if !s.serveDiscovery(w, r) {
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

// authorize checks q against the authorizer; obj is the decoded body of a
// create (nil otherwise).
func (s *Server) authorize(q *request, obj runtime.Object) error {
	at := auth.Attributes{User: q.user, Verb: q.info.verb, APIGroup: q.info.group, Resource: q.info.resource,
		Subresource: q.info.subresource, Namespace: q.info.namespace, Name: q.info.name,
		ResourceRequest: true, Path: q.info.path, FieldName: fieldSelectorName(q.r)}
	if obj != nil {
		at.Name, at.ObjectNodeName = nameAndNode(obj)
	}
	ok, reason, err := s.authz.Authorize(q.ctx, at)
	if err != nil || !ok {
		return forbidden(err, reason, q.gr(), at.Name)
	}
	return nil
}

func (s *Server) serveResource(q *request) {
	if !methodAllowed(q.info, q.res.namespaced) {
		err := s.authorize(q, nil)
		if err == nil {
			err = methodNotAllowed()
		}
		s.writeError(q.w, err, q.gr(), q.info.name)
		return
	}
	if q.info.verb == "create" {
		s.serveCreate(q)
		return
	}
	if err := s.authorize(q, nil); err != nil {
		s.writeError(q.w, err, q.gr(), q.info.name)
		return
	}
	var err error
	switch q.info.verb {
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
