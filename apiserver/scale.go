package apiserver

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// The scale subresource answers and takes an autoscaling/v1 Scale: the
// workload's spec.replicas, status.replicas and its selector as a string.
// Writing a Scale changes only spec.replicas of the workload, through the
// update path (generation bump, validation, resourceVersion precondition).

var scaleGVK = autoscalingv1.SchemeGroupVersion.WithKind("Scale")

// replicated is what the scale subresource reads and writes of a workload.
type replicated struct {
	meta     *metav1.ObjectMeta
	replicas **int32
	status   int32
	selector *metav1.LabelSelector
}

func replicatedOf(obj runtime.Object) (replicated, error) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return replicated{&o.ObjectMeta, &o.Spec.Replicas, o.Status.Replicas, o.Spec.Selector}, nil
	case *appsv1.ReplicaSet:
		return replicated{&o.ObjectMeta, &o.Spec.Replicas, o.Status.Replicas, o.Spec.Selector}, nil
	case *appsv1.StatefulSet:
		return replicated{&o.ObjectMeta, &o.Spec.Replicas, o.Status.Replicas, o.Spec.Selector}, nil
	}
	return replicated{}, fmt.Errorf("%T has no scale subresource", obj)
}

// scaleOf is the Scale of a workload (of a custom resource: crd_scale.go).
func scaleOf(res *resource, obj runtime.Object) (*autoscalingv1.Scale, error) {
	if res.custom != nil && res.custom.scale != nil {
		return res.custom.scale.of(obj)
	}
	r, err := replicatedOf(obj)
	if err != nil {
		return nil, err
	}
	sel, err := metav1.LabelSelectorAsSelector(r.selector)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	sc := &autoscalingv1.Scale{TypeMeta: metav1.TypeMeta{Kind: scaleGVK.Kind, APIVersion: scaleGVK.GroupVersion().String()},
		ObjectMeta: metav1.ObjectMeta{Name: r.meta.Name, Namespace: r.meta.Namespace, UID: r.meta.UID,
			ResourceVersion: r.meta.ResourceVersion, CreationTimestamp: r.meta.CreationTimestamp},
		Status: autoscalingv1.ScaleStatus{Replicas: r.status, Selector: sel.String()}}
	if *r.replicas != nil {
		sc.Spec.Replicas = **r.replicas
	}
	return sc, nil
}

func (s *Server) serveScaleGet(q *request) error {
	obj, err := s.store(q.res).Get(q.ctx, q.info.namespace, q.info.name)
	if err != nil {
		return err
	}
	return s.respond(q, http.StatusOK, obj)
}

// serveScaleUpdate is a PUT of a Scale.
func (s *Server) serveScaleUpdate(q *request) error {
	data, err := readBody(q.r)
	if err != nil {
		return err
	}
	mode, err := parseFieldValidation(q.r)
	if err != nil {
		return err
	}
	mt := mediaJSON
	if ct := q.r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return unsupportedMediaType(ct)
		}
	}
	obj, err := s.codecs.decode(q.w, data, mt, mode, scaleGVK, &autoscalingv1.Scale{})
	if err != nil {
		return err
	}
	want := obj.(*autoscalingv1.Scale)
	return s.update(q, func(cur runtime.Object) (runtime.Object, error) {
		return applyScale(q, cur, want)
	})
}

// serveScalePatch patches the workload's Scale, then writes its replicas.
func (s *Server) serveScalePatch(q *request) error {
	patch, err := readBody(q.r)
	if err != nil {
		return err
	}
	pt, err := patchType(q.r.Header.Get("Content-Type"))
	if err != nil {
		return err
	}
	mode, err := parseFieldValidation(q.r)
	if err != nil {
		return err
	}
	return s.update(q, func(cur runtime.Object) (runtime.Object, error) {
		sc, err := scaleOf(q.res, cur)
		if err != nil {
			return nil, err
		}
		original, err := json.Marshal(sc)
		if err != nil {
			return nil, err
		}
		result, err := patchJSON(pt, original, patch, &autoscalingv1.Scale{})
		if err != nil {
			return nil, err
		}
		patched, err := s.codecs.decode(q.w, result, mediaJSON, mode, scaleGVK, &autoscalingv1.Scale{})
		if err != nil {
			return nil, err
		}
		return applyScale(q, cur, patched.(*autoscalingv1.Scale))
	})
}

// applyScale validates a Scale written to cur and sets cur's replicas.
// The Scale's name must be the workload's; a resourceVersion in it is a
// precondition.
func applyScale(q *request, cur runtime.Object, sc *autoscalingv1.Scale) (runtime.Object, error) {
	if err := validateScale(q, sc); err != nil {
		return nil, err
	}
	if sc.ResourceVersion != "" {
		rv, err := storage.ParseRV(sc.ResourceVersion)
		if err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		if err := checkRV(q, cur, rv); err != nil {
			return nil, err
		}
	}
	if c := q.res.custom; c != nil && c.scale != nil {
		return c.scale.set(cur, sc.Spec.Replicas)
	}
	r, err := replicatedOf(cur)
	if err != nil {
		return nil, err
	}
	n := sc.Spec.Replicas
	*r.replicas = &n
	return cur, nil
}

// validateScale checks a Scale as kube does: it names the object of the
// URL (400 otherwise, as any update) and asks for no negative replicas.
func validateScale(q *request, sc *autoscalingv1.Scale) error {
	if sc.Name != q.info.name {
		return apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", sc.Name, q.info.name))
	}
	if sc.Namespace != "" && sc.Namespace != q.info.namespace {
		return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	if sc.Spec.Replicas < 0 {
		return apierrors.NewInvalid(scaleGVK.GroupKind(), sc.Name, field.ErrorList{
			field.Invalid(field.NewPath("spec", "replicas"), sc.Spec.Replicas, "must be greater than or equal to 0")})
	}
	return nil
}
