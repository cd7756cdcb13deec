package apiserver

import (
	"context"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nodeagent/nodeagent/apiserver/admission"
	"github.com/nodeagent/nodeagent/apiserver/storage"
)

func (s *Server) create(q *request) error {
	switch q.info.subresource {
	case "":
	case "binding":
		return s.serveBinding(q)
	case "exec", "attach", "portforward":
		return s.servePodStream(q)
	case "token":
		return s.serveTokenRequest(q)
	default:
		return apierrors.NewMethodNotSupported(q.gr(), "create "+q.info.subresource)
	}
	if err := writeOptions(q); err != nil {
		return err
	}
	data, err := readBody(q.r)
	if err != nil {
		return err
	}
	obj, err := s.codecs.decodeBody(q.w, q.r, q.res, data)
	if err != nil {
		return err
	}
	managed := managedFieldsOf(obj)
	if err := s.prepareMetaForCreate(q, obj); err != nil {
		return err
	}
	if err := s.prepareCreate(q, obj); err != nil {
		return err
	}
	// As kube-apiserver: the writer owns what it sent and the defaults,
	// not what admission adds after (a pod's service account volume,
	// tolerations, priority).
	obj = s.trackUpdate(q, obj, nil, managed)
	if err := s.checkCreate(q, obj); err != nil {
		return err
	}
	name, _ := nameAndNode(obj)
	created, err := s.storeCreate(q.ctx, q.res, q.info.namespace, name, obj, dryRun(q.r))
	if err != nil {
		return statusError(err, q.gr(), name)
	}
	return s.respond(q, http.StatusCreated, created)
}

// storeCreate runs the resource's assign step and stores the result (not
// when dry). A conflict on a linked key (another create took the IP or port
// just assigned) assigns again from the object as admitted.
func (s *Server) storeCreate(ctx context.Context, res *resource, namespace, name string, obj runtime.Object, dry bool) (runtime.Object, error) {
	const attempts = 8
	for i := 1; ; i++ {
		o := obj
		if assign := res.strategy.assign; assign != nil {
			o = obj.DeepCopyObject()
			if err := assign(ctx, o, nil); err != nil {
				return nil, err
			}
		}
		if dry {
			return o, nil
		}
		created, err := s.store(res).Create(ctx, namespace, name, o)
		if storage.IsConflict(err) && i < attempts {
			continue
		}
		return created, err
	}
}

// admitCreate applies the resource's strategy to a new object: the
// namespace must exist and not be terminating, then prepare, default,
// admit and validate.
func (s *Server) admitCreate(q *request, obj runtime.Object) error {
	if err := s.prepareCreate(q, obj); err != nil {
		return err
	}
	return s.checkCreate(q, obj)
}

// prepareCreate is admitCreate's first half: the namespace, the
// strategy's preparation and defaults.
func (s *Server) prepareCreate(q *request, obj runtime.Object) error {
	if err := s.namespaceAcceptsContent(q); err != nil {
		return err
	}
	st := q.res.strategy
	if st.prepareCreate != nil {
		st.prepareCreate(obj)
	}
	if st.defaults != nil {
		st.defaults(obj)
	}
	return nil
}

// checkCreate is admitCreate's second half: escalation, admission and
// validation.
func (s *Server) checkCreate(q *request, obj runtime.Object) error {
	st := q.res.strategy
	if err := s.rbacEscalation(q, obj, nil); err != nil {
		return err
	}
	if err := s.admit(q, admission.Create, obj, nil); err != nil {
		return err
	}
	return invalid(q, obj, st.validate(obj))
}

func dryRun(r *http.Request) bool {
	return len(r.URL.Query()["dryRun"]) > 0
}

// serveUpdate replaces an object (PUT), or its status or finalizers.
func (s *Server) serveUpdate(q *request) error {
	if q.info.subresource == "scale" {
		return s.serveScaleUpdate(q)
	}
	if err := writeOptions(q); err != nil {
		return err
	}
	data, err := readBody(q.r)
	if err != nil {
		return err
	}
	obj, err := s.codecs.decodeBody(q.w, q.r, q.res, data)
	if err != nil {
		return err
	}
	wantRV, err := storage.RV(obj)
	if err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	return s.update(q, func(cur runtime.Object) (runtime.Object, error) {
		if wantRV != 0 {
			if err := checkRV(q, cur, wantRV); err != nil {
				return nil, err
			}
		}
		return obj.DeepCopyObject(), nil
	})
}

// update runs the shared update path: compute the new object from the
// current one with next, keep what the client may not change, default,
// validate, store; retried from the top when the object changed meanwhile.
func (s *Server) update(q *request, next storage.UpdateFunc) error {
	var dry runtime.Object
	updated, err := s.store(q.res).Update(q.ctx, q.info.namespace, q.info.name, func(cur runtime.Object) (runtime.Object, error) {
		obj, err := next(cur.DeepCopyObject())
		if err != nil {
			return nil, err
		}
		managed := managedFieldsOf(obj)
		if err := s.admitUpdate(q, obj, cur); err != nil {
			return nil, err
		}
		obj = s.keepManagedFields(q, obj, cur, managed)
		if dryRun(q.r) {
			dry = obj
			return nil, errDryRun
		}
		return obj, nil
	})
	if err == errDryRun {
		return s.respond(q, http.StatusOK, dry)
	}
	if err != nil {
		return err
	}
	if final, err := s.finishDeletionIfDone(q, updated); err != nil || final != nil {
		if final != nil {
			return s.respond(q, http.StatusOK, final)
		}
		return err
	}
	return s.respond(q, http.StatusOK, updated)
}

var errDryRun = fmt.Errorf("dry run")

// admitUpdate prepares and checks obj, an update of cur.
func (s *Server) admitUpdate(q *request, obj, cur runtime.Object) error {
	if err := s.rbacEscalation(q, obj, cur); err != nil {
		return err
	}
	if err := s.admit(q, admission.Update, obj, cur); err != nil {
		return err
	}
	if err := s.keepServerMeta(q, obj, cur); err != nil {
		return err
	}
	curRV, _ := storage.RV(cur)
	setRVOn(obj, curRV)
	st := q.res.strategy
	switch q.info.subresource {
	case "":
		if st.hasStatus && st.keepStatus != nil {
			st.keepStatus(obj, cur)
		}
	case "status":
		if st.keepSpec != nil {
			st.keepSpec(obj, cur)
		}
		if st.prepareStatusUpdate != nil {
			st.prepareStatusUpdate(obj, cur)
		}
	case "approval":
		if st.keepSpec == nil || st.prepareApprovalUpdate == nil {
			return apierrors.NewMethodNotSupported(q.gr(), "update "+q.info.subresource)
		}
		st.keepSpec(obj, cur)
		st.prepareApprovalUpdate(obj, cur)
	case "finalize", "scale":
		if st.keepStatus != nil {
			st.keepStatus(obj, cur)
		}
	default:
		return apierrors.NewMethodNotSupported(q.gr(), "update "+q.info.subresource)
	}
	if q.info.subresource == "" && st.prepareUpdate != nil {
		st.prepareUpdate(obj, cur)
	}
	if st.defaults != nil {
		st.defaults(obj)
	}
	bumpGeneration(q, obj, cur)
	if st.validateUpdate != nil {
		if err := invalid(q, obj, st.validateUpdate(obj, cur)); err != nil {
			return err
		}
	}
	if q.info.subresource == "" && st.assign != nil {
		return st.assign(q.ctx, obj, cur)
	}
	return nil
}

func checkRV(q *request, cur runtime.Object, want int64) error {
	have, _ := storage.RV(cur)
	if have != want {
		return conflictf(q.gr(), q.info.name, "the object has been modified; please apply your changes to the latest version and try again")
	}
	return nil
}

func setRVOn(obj runtime.Object, rv int64) {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetResourceVersion(fmt.Sprint(rv))
	}
}

// invalid turns validation errors into kube's 422 Invalid status.
func invalid(q *request, obj runtime.Object, errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	name, _ := nameAndNode(obj)
	return apierrors.NewInvalid(q.res.gvk.GroupKind(), name, errs)
}
