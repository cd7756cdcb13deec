package apiserver

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"sigs.k8s.io/yaml"

	"github.com/nodeagent/nodeagent/apiserver/auth"
	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// serveApply answers a server-side apply (PATCH with
// application/apply-patch+yaml): the applied configuration is merged into
// the stored object by the field manager, which records the fields as the
// manager's and refuses (409) to take fields another manager owns unless
// force=true. The object is created when it does not exist (not through a
// subresource), as kube-apiserver does.
func (s *Server) serveApply(q *request, patch []byte) error {
	opts, err := patchOptions(q.r, types.ApplyPatchType)
	if err != nil {
		return err
	}
	fm, err := s.fields.forResource(q.res, q.info.subresource)
	if err != nil {
		return err
	}
	if fm == nil {
		return apierrors.NewGenericServerResponse(http.StatusUnsupportedMediaType, "patch", q.gr(), q.info.name,
			fmt.Sprintf("server-side apply is not supported for %s: the server has no schema for it", q.gr()), 0, false)
	}
	applied, err := decodeApplyPatch(q.r, patch)
	if err != nil {
		return err
	}
	force := opts.Force != nil && *opts.Force
	for attempt := 0; ; attempt++ {
		err = s.update(q, func(cur runtime.Object) (runtime.Object, error) {
			return applyTo(fm, cur, applied.DeepCopy(), opts.FieldManager, force)
		})
		if q.info.subresource != "" || !storage.IsNotFound(err) {
			return err
		}
		err = s.applyCreate(q, fm, applied.DeepCopy(), opts.FieldManager, force)
		if !apierrors.IsAlreadyExists(err) || attempt > 0 {
			return err
		}
	}
}

// applyCreate creates the object an apply names from its applied
// configuration merged into an empty object. The request was authorized as
// a patch; creating needs the create verb too (kube's create on update).
func (s *Server) applyCreate(q *request, fm *managedfields.FieldManager, applied *unstructured.Unstructured, manager string, force bool) error {
	if err := s.authorizeApplyCreate(q); err != nil {
		return err
	}
	obj, err := applyTo(fm, s.fields.typed(q.res), applied, manager, force)
	if err != nil {
		return err
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	if m.GetName() != q.info.name {
		return apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), q.info.name))
	}
	managed := m.GetManagedFields()
	if err := s.prepareMetaForCreate(q, obj); err != nil {
		return err
	}
	m.SetManagedFields(managed)
	if err := s.admitCreate(q, obj); err != nil {
		return err
	}
	created, err := s.storeCreate(q.ctx, q.res, q.info.namespace, q.info.name, obj, dryRun(q.r))
	if err != nil {
		return statusError(err, q.gr(), q.info.name)
	}
	return s.respond(q, http.StatusCreated, created)
}

// applyTo merges applied into live as manager's configuration.
func applyTo(fm *managedfields.FieldManager, live runtime.Object, applied *unstructured.Unstructured, manager string, force bool) (runtime.Object, error) {
	obj, err := fm.Apply(live, applied, manager, force)
	var se *apierrors.StatusError
	switch {
	case err == nil:
		return obj, nil
	case errors.As(err, &se):
		return nil, se
	default: // the applied configuration does not fit the schema
		return nil, apierrors.NewBadRequest(err.Error())
	}
}

// decodeApplyPatch reads an applied configuration (YAML or JSON); with
// fieldValidation=Strict duplicate fields are refused too.
func decodeApplyPatch(r *http.Request, patch []byte) (*unstructured.Unstructured, error) {
	obj := &unstructured.Unstructured{Object: map[string]any{}}
	if err := yaml.Unmarshal(patch, &obj.Object); err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding YAML: %v", err))
	}
	if mode, err := parseFieldValidation(r); err != nil {
		return nil, err
	} else if mode == validationStrict {
		if err := yaml.UnmarshalStrict(patch, &map[string]any{}); err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("error strict decoding YAML: %v", err))
		}
	}
	return obj, nil
}

// patchOptions reads and checks a patch's options as kube-apiserver does
// (422 on PatchOptions): an apply needs a fieldManager, force is for apply
// only.
func patchOptions(r *http.Request, pt types.PatchType) (*metav1.PatchOptions, error) {
	v := r.URL.Query()
	opts := &metav1.PatchOptions{FieldManager: v.Get("fieldManager"), DryRun: v["dryRun"]}
	if f, ok := v["force"]; ok && len(f) > 0 {
		b, err := strconv.ParseBool(f[0])
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid value for force: %q", f[0]))
		}
		opts.Force = &b
	}
	errs := metav1validation.ValidatePatchOptions(opts, pt)
	if len(errs) > 0 {
		return nil, apierrors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: "PatchOptions"}, "", errs)
	}
	return opts, nil
}

// isApply says whether the request is a server-side apply.
func isApply(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && r.Method == http.MethodPatch && types.PatchType(mt) == types.ApplyYAMLPatchType
}

// keepManagedFields sets the managed fields of obj, an update of live that
// admitUpdate has cleared them from: an apply's are the field manager's
// (managed), any other write is recorded as an Update of its manager over
// the fields the client sent (managed; nil keeps live's).
func (s *Server) keepManagedFields(q *request, obj, live runtime.Object, managed []metav1.ManagedFieldsEntry) runtime.Object {
	if isApply(q.r) {
		if m, err := meta.Accessor(obj); err == nil {
			m.SetManagedFields(managed)
		}
		return obj
	}
	return s.trackUpdate(q, obj, live, managed)
}

// writeOptions checks a create's or update's fieldManager and dryRun as
// kube-apiserver does (422 on CreateOptions or UpdateOptions): the manager
// is stored in managedFields.
func writeOptions(q *request) error {
	v := q.r.URL.Query()
	manager, dry := v.Get("fieldManager"), v["dryRun"]
	kind, errs := "UpdateOptions", metav1validation.ValidateUpdateOptions(&metav1.UpdateOptions{FieldManager: manager, DryRun: dry})
	if q.r.Method == http.MethodPost {
		kind, errs = "CreateOptions", metav1validation.ValidateCreateOptions(&metav1.CreateOptions{FieldManager: manager, DryRun: dry})
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: kind}, "", errs)
	}
	return nil
}

// authorizeApplyCreate checks that the user of an apply that creates may
// create the object.
func (s *Server) authorizeApplyCreate(q *request) error {
	at := auth.Attributes{User: q.user, Verb: "create", APIGroup: q.info.group, Resource: q.info.resource,
		Namespace: q.info.namespace, Name: q.info.name, ResourceRequest: true, Path: q.info.path}
	ok, reason, err := s.authz.Authorize(q.ctx, at)
	if err != nil || !ok {
		return forbidden(err, reason, q.gr(), q.info.name)
	}
	return nil
}
