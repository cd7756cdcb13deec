package apiserver

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/apiserver/admission"
	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// deleteOptions reads DeleteOptions from the body or the query.
func (s *Server) deleteOptions(q *request) (*metav1.DeleteOptions, error) {
	opts := &metav1.DeleteOptions{}
	data, err := readBody(q.r)
	if err != nil {
		return nil, err
	}
	if len(data) > 0 {
		if err := runtimeDecodeInto(s, q.r, data, opts); err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid DeleteOptions: %v", err))
		}
	}
	if g := q.r.URL.Query().Get("gracePeriodSeconds"); g != "" {
		n, err := strconv.ParseInt(g, 10, 64)
		if err != nil {
			return nil, apierrors.NewBadRequest("invalid gracePeriodSeconds " + g)
		}
		opts.GracePeriodSeconds = &n
	}
	if len(data) == 0 {
		if err := propagationFromQuery(q.r.URL.Query(), opts); err != nil {
			return nil, err
		}
	}
	if err := validatePropagation(opts); err != nil {
		return nil, err
	}
	return opts, nil
}

func (s *Server) serveDelete(q *request) error {
	opts, err := s.deleteOptions(q)
	if err != nil {
		return err
	}
	obj, code, err := s.deleteOne(q, q.info.name, opts)
	if err != nil {
		return err
	}
	return s.respond(q, code, obj)
}

// deleteOne deletes, or starts deleting, one object: an object with
// finalizers, a namespace, or a pod on a node with a grace period is marked
// with a deletionTimestamp and stays until it is released. An orphan or
// foreground delete adds its finalizer ("orphan", "foregroundDeletion"),
// which the garbage collector removes once it has done its part.
func (s *Server) deleteOne(q *request, name string, opts *metav1.DeleteOptions) (runtime.Object, int, error) {
	st := s.store(q.res)
	cur, err := st.Get(q.ctx, q.info.namespace, name)
	if err != nil {
		return nil, 0, statusError(err, q.gr(), name)
	}
	if err := checkPreconditions(q, name, cur, opts.Preconditions); err != nil {
		return nil, 0, err
	}
	opts = defaultPropagation(q.res, cur, opts)
	if err := s.admit(q, admission.Delete, nil, cur); err != nil {
		return nil, 0, err
	}
	if dryRun(q.r) {
		return cur, http.StatusOK, nil
	}
	grace := s.gracePeriod(cur, opts)
	if grace > 0 || hasFinalizers(cur) || gcFinalizersChange(cur, opts) {
		marked, err := s.markDeleted(q, name, grace, opts)
		if err != nil {
			return nil, 0, err
		}
		if marked != nil {
			return marked, http.StatusOK, nil
		}
	}
	deleted, err := st.Delete(q.ctx, q.info.namespace, name, func(c runtime.Object) error {
		return checkPreconditions(q, name, c, opts.Preconditions)
	})
	if err != nil {
		return nil, 0, statusError(err, q.gr(), name)
	}
	return deleted, http.StatusOK, nil
}

func checkPreconditions(q *request, name string, cur runtime.Object, p *metav1.Preconditions) error {
	if p == nil {
		return nil
	}
	m, _ := meta.Accessor(cur)
	if p.UID != nil && *p.UID != m.GetUID() {
		return apierrors.NewConflict(q.gr(), name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *p.UID, m.GetUID()))
	}
	if p.ResourceVersion != nil && *p.ResourceVersion != m.GetResourceVersion() {
		return apierrors.NewConflict(q.gr(), name, fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *p.ResourceVersion, m.GetResourceVersion()))
	}
	return nil
}

// gracePeriod is how long a pod on a node gets to stop; 0 for everything
// else, for pods on no node and for pods that have finished.
func (s *Server) gracePeriod(cur runtime.Object, opts *metav1.DeleteOptions) int64 {
	pod, ok := cur.(*corev1.Pod)
	if !ok || pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return 0
	}
	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		grace = *pod.Spec.TerminationGracePeriodSeconds
	}
	if opts.GracePeriodSeconds != nil {
		grace = *opts.GracePeriodSeconds
	}
	if pod.DeletionGracePeriodSeconds != nil && *pod.DeletionGracePeriodSeconds < grace {
		grace = *pod.DeletionGracePeriodSeconds
	}
	if grace < 0 {
		grace = 0
	}
	return grace
}

func hasFinalizers(obj runtime.Object) bool {
	m, err := meta.Accessor(obj)
	if err != nil {
		return false
	}
	if len(m.GetFinalizers()) > 0 {
		return true
	}
	ns, ok := obj.(*corev1.Namespace)
	return ok && len(ns.Spec.Finalizers) > 0
}

// markDeleted sets deletionTimestamp (now + grace) and the grace period. It
// returns nil when the object turned out to be deletable at once.
func (s *Server) markDeleted(q *request, name string, grace int64, opts *metav1.DeleteOptions) (runtime.Object, error) {
	var deletable bool
	out, err := s.store(q.res).Update(q.ctx, q.info.namespace, name, func(cur runtime.Object) (runtime.Object, error) {
		if err := checkPreconditions(q, name, cur, opts.Preconditions); err != nil {
			return nil, err
		}
		grace := min(grace, s.gracePeriod(cur, opts))
		setGCFinalizers(cur, opts)
		if grace == 0 && !hasFinalizers(cur) {
			deletable = true
			return nil, errDeletable
		}
		m, _ := meta.Accessor(cur)
		when := metav1.NewTime(s.now().Add(time.Duration(grace) * time.Second))
		if old := m.GetDeletionTimestamp(); old == nil || when.Before(old) {
			m.SetDeletionTimestamp(&when)
			m.SetDeletionGracePeriodSeconds(&grace)
		}
		if ns, ok := cur.(*corev1.Namespace); ok {
			ns.Status.Phase = corev1.NamespaceTerminating
		}
		return cur, nil
	})
	if deletable {
		return nil, nil
	}
	if err != nil {
		return nil, statusError(err, q.gr(), name)
	}
	return out, nil
}

var errDeletable = fmt.Errorf("deletable")

func graceLeft(m metav1.Object) bool {
	g := m.GetDeletionGracePeriodSeconds()
	return g != nil && *g > 0
}

// finishDeletionIfDone removes an object marked for deletion whose last
// finalizer is gone; it returns the removed object, or nil. A pod with
// grace left goes when its node confirms with a delete; one whose grace
// is over (never scheduled, or confirmed while a finalizer held it) goes
// now, as kube-apiserver deletes during an update.
func (s *Server) finishDeletionIfDone(q *request, obj runtime.Object) (runtime.Object, error) {
	m, err := meta.Accessor(obj)
	if err != nil || m.GetDeletionTimestamp() == nil || hasFinalizers(obj) {
		return nil, nil
	}
	if _, isPod := obj.(*corev1.Pod); isPod && graceLeft(m) {
		return nil, nil
	}
	rv, _ := storage.RV(obj)
	deleted, err := s.store(q.res).Delete(q.ctx, q.info.namespace, m.GetName(), func(c runtime.Object) error {
		if cur, _ := storage.RV(c); cur != rv {
			return errDeletable
		}
		return nil
	})
	if err == errDeletable || storage.IsNotFound(err) {
		return nil, nil
	}
	return deleted, err
}

func (s *Server) serveDeleteCollection(q *request) error {
	opts, err := s.deleteOptions(q)
	if err != nil {
		return err
	}
	p, err := parseListParams(q.r, q.res)
	if err != nil {
		return err
	}
	page, err := s.store(q.res).List(q.ctx, q.info.namespace, p.opts)
	if err != nil {
		return err
	}
	var deleted []runtime.Object
	for _, obj := range page.Items {
		name, _ := nameAndNode(obj)
		d, _, err := s.deleteOne(q, name, opts)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		deleted = append(deleted, d)
	}
	list, err := s.newList(q.res, storage.ListResult{Items: deleted, Revision: page.Revision})
	if err != nil {
		return err
	}
	s.codecs.writeObject(q.w, http.StatusOK, list, q.out)
	return nil
}

// runtimeDecodeInto decodes a body of the request's content type (an
// option or binding object, not a stored resource) into into.
func runtimeDecodeInto(s *Server, r *http.Request, data []byte, into runtime.Object) error {
	info := s.codecs.json
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if i, ok := s.codecs.info(mt); err == nil && ok {
			info = i
		}
	}
	_, _, err := info.Serializer.Decode(data, nil, into)
	return err
}
