package apiserver

import (
	"fmt"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/apiserver/storage"
)

func (s *Server) serveGet(q *request) error {
	switch q.info.subresource {
	case "", "status", "approval":
	case "log":
		return s.servePodLog(q)
	case "scale":
		return s.serveScaleGet(q)
	case "exec", "attach", "portforward":
		return s.servePodStream(q)
	default:
		return apierrors.NewMethodNotSupported(q.gr(), "get "+q.info.subresource)
	}
	rv, err := storage.ParseRV(q.r.URL.Query().Get("resourceVersion"))
	if err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	obj, err := s.store(q.res).GetNotOlderThan(q.ctx, q.info.namespace, q.info.name, rv)
	if err != nil {
		return err
	}
	return s.respond(q, http.StatusOK, obj)
}

// respond writes one object, as a Table or PartialObjectMetadata when the
// client asked for one.
func (s *Server) respond(q *request, code int, obj runtime.Object) error {
	if q.info.subresource == "scale" {
		sc, err := scaleOf(q.res, obj)
		if err != nil {
			return err
		}
		obj = sc
	}
	ensureKind(obj, q.res)
	if q.out.table {
		t, err := s.table(q, []runtime.Object{obj}, "")
		if err != nil {
			return err
		}
		obj = t
	} else if !q.out.partial.Empty() {
		p, err := partialObject(obj, q.out.partial)
		if err != nil {
			return err
		}
		obj = p
	}
	s.codecs.writeObject(q.w, code, obj, q.out)
	return nil
}

// listParams are the list options of a request.
type listParams struct {
	opts storage.ListOptions
	sel  selection
}

func parseListParams(r *http.Request, res *resource) (listParams, error) {
	q := r.URL.Query()
	sel, err := parseSelection(r, res)
	if err != nil {
		return listParams{}, err
	}
	var p listParams
	p.sel = sel
	p.opts.Match = sel.match(res)
	p.opts.Hints = sel.hints()
	p.opts.Continue = q.Get("continue")
	if l := q.Get("limit"); l != "" {
		n, err := strconv.ParseInt(l, 10, 64)
		if err != nil || n < 0 {
			return p, apierrors.NewBadRequest(fmt.Sprintf("invalid limit %q", l))
		}
		p.opts.Limit = n
	}
	if err := readRevisions(&p.opts, q.Get("resourceVersion"), metav1.ResourceVersionMatch(q.Get("resourceVersionMatch"))); err != nil {
		return p, err
	}
	if p.opts.Continue != "" && p.opts.Revision+p.opts.MinRevision != 0 {
		return p, apierrors.NewBadRequest("specifying resource version is not allowed when using continue")
	}
	return p, nil
}

// readRevisions sets the revisions a list reads at (after its Limit) from
// its resourceVersion and resourceVersionMatch.
func readRevisions(opts *storage.ListOptions, rv string, match metav1.ResourceVersionMatch) error {
	n, err := storage.ParseRV(rv)
	if err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	opts.Revision, opts.MinRevision = listRevisions(match, n, opts.Limit)
	opts.AnyRevision = rv == "0" && match != metav1.ResourceVersionMatchExact
	return nil
}

// listRevisions reads resourceVersion and resourceVersionMatch as kube's
// etcd storage does: Exact reads at rv; NotOlderThan reads the current
// state, which must be at least rv; unset is NotOlderThan, except that a
// paged list (limit > 0) reads at rv exactly.
func listRevisions(match metav1.ResourceVersionMatch, rv, limit int64) (exact, min int64) {
	switch {
	case match == metav1.ResourceVersionMatchExact:
		return rv, 0
	case match == "" && limit > 0:
		return rv, 0
	}
	return 0, rv
}

func (s *Server) serveList(q *request) error {
	p, err := parseListParams(q.r, q.res)
	if err != nil {
		return err
	}
	p.opts.Shared = true // encoded (or tabled) as they are
	page, err := s.store(q.res).List(q.ctx, q.info.namespace, p.opts)
	if err != nil {
		return err
	}
	if q.out.table {
		t, err := s.table(q, page.Items, page.Continue)
		if err != nil {
			return err
		}
		t.ResourceVersion = strconv.FormatInt(page.Revision, 10)
		s.codecs.writeObject(q.w, http.StatusOK, t, q.out)
		return nil
	}
	if !q.out.partial.Empty() {
		l, err := partialList(page, q.out.partial, q.res.newList())
		if err != nil {
			return err
		}
		s.codecs.writeObject(q.w, http.StatusOK, l, q.out)
		return nil
	}
	if q.out.info.MediaType == mediaJSON && !q.out.pretty && q.res.custom == nil {
		writeJSONList(q.w, q.res, page)
		return nil
	}
	list, err := s.newList(q.res, page)
	if err != nil {
		return err
	}
	s.codecs.writeObject(q.w, http.StatusOK, list, q.out)
	return nil
}

// newList builds the typed list (PodList, ...) of a page.
func (s *Server) newList(res *resource, page storage.ListResult) (runtime.Object, error) {
	list := res.newList()
	if err := meta.SetList(list, page.Items); err != nil {
		return nil, err
	}
	lm, err := meta.ListAccessor(list)
	if err != nil {
		return nil, err
	}
	lm.SetResourceVersion(strconv.FormatInt(page.Revision, 10))
	lm.SetContinue(page.Continue)
	setListKind(list, res)
	return list, nil
}

func setListKind(list runtime.Object, res *resource) {
	list.GetObjectKind().SetGroupVersionKind(res.groupVersion().WithKind(res.gvk.Kind + "List"))
}

// ensureKind sets apiVersion and kind on an object of the resource's type
// that lacks them (Status and other kinds are left alone).
func ensureKind(obj runtime.Object, res *resource) {
	gvk := obj.GetObjectKind()
	if gvk.GroupVersionKind().Kind == "" {
		if _, isStatus := obj.(*metav1.Status); !isStatus {
			gvk.SetGroupVersionKind(res.gvk)
		}
	}
}
