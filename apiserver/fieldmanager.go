package apiserver

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	crdapply "k8s.io/apiextensions-apiserver/pkg/client/applyconfiguration"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// fieldManagers keeps metadata.managedFields (server-side apply's record of
// which manager owns which field) with the structured-merge-diff field
// manager kube-apiserver uses, over the OpenAPI models of the built-in types
// that client-go carries (and apiextensions-apiserver's for
// CustomResourceDefinitions; for custom resources the definition's schema,
// customTypeConverter). One manager per kind and subresource ("" or
// "status"), made on first use; a custom resource's are kept with it.
type fieldManagers struct {
	scheme    *runtime.Scheme
	converter managedfields.TypeConverter
	crds      managedfields.TypeConverter // apiextensions.k8s.io

	mu       sync.Mutex
	managers map[fieldManagerKey]*managedfields.FieldManager
}

type fieldManagerKey struct {
	gvk         schema.GroupVersionKind
	subresource string
}

func newFieldManagers(scheme *runtime.Scheme) *fieldManagers {
	return &fieldManagers{
		scheme:    scheme,
		converter: applyconfigurations.NewTypeConverter(scheme),
		crds:      crdapply.NewTypeConverter(scheme),
		managers:  map[fieldManagerKey]*managedfields.FieldManager{},
	}
}

// forResource is the field manager of res's subresource, or nil when the
// subresource keeps no managed fields of its own (finalize) or the models
// have no schema for the kind. A write of the scale subresource is recorded
// on the workload's fields (spec.replicas) as kube's scale handler maps it.
func (f *fieldManagers) forResource(res *resource, subresource string) (*managedfields.FieldManager, error) {
	switch subresource {
	case "", "status", "scale":
	default:
		return nil, nil
	}
	key := fieldManagerKey{res.gvk, subresource}
	f.mu.Lock()
	defer f.mu.Unlock()
	cache := f.managers
	if res.custom != nil {
		if res.custom.managers == nil {
			res.custom.managers = map[fieldManagerKey]*managedfields.FieldManager{}
		}
		cache = res.custom.managers
	}
	if m, ok := cache[key]; ok {
		return m, nil
	}
	m, err := f.build(res, subresource)
	if err != nil {
		return nil, err
	}
	cache[key] = m
	return m, nil
}

func (f *fieldManagers) build(res *resource, subresource string) (*managedfields.FieldManager, error) {
	converter := f.converter
	switch {
	case res.custom != nil:
		converter = res.custom.typeConverter()
	case res.gvk.Group == apiextensionsv1.GroupName:
		converter = f.crds
	}
	if _, err := converter.ObjectToTyped(f.typed(res)); err != nil {
		return nil, nil // no schema: managed fields are not kept (see serveApply)
	}
	newManager, objects := managedfields.NewDefaultFieldManager, runtime.ObjectConvertor(f.scheme)
	creater := runtime.ObjectCreater(f.scheme)
	if res.custom != nil {
		newManager, objects, creater = managedfields.NewDefaultCRDFieldManager, customObjects{}, customObjects{}
	}
	m, err := newManager(converter, objects, strategyDefaulter{res.strategy}, creater,
		res.gvk, res.gvk.GroupVersion(), subresource, resetFields(res, subresource))
	if err != nil {
		return nil, fmt.Errorf("field manager for %s: %w", res.gvk, err)
	}
	return m, nil
}

// typed is an empty object of res's kind with its apiVersion and kind set.
func (f *fieldManagers) typed(res *resource) runtime.Object {
	obj := res.newObj()
	obj.GetObjectKind().SetGroupVersionKind(res.gvk)
	return obj
}

// resetFields are the fields a write to the subresource does not change, so
// its manager does not own them: the main resource (and scale) of a kind
// with status leaves status alone, the status subresource everything else
// (as kube's strategies' GetResetFields for spec and status).
func resetFields(res *resource, subresource string) map[fieldpath.APIVersion]fieldpath.Filter {
	var set *fieldpath.Set
	switch {
	case (subresource == "" || subresource == "scale") && res.strategy.hasStatus:
		set = fieldpath.NewSet(fieldpath.MakePathOrDie("status"))
	case subresource == "status":
		set = fieldpath.NewSet(fieldpath.MakePathOrDie("spec"), fieldpath.MakePathOrDie("metadata"))
	default:
		return nil
	}
	return map[fieldpath.APIVersion]fieldpath.Filter{
		fieldpath.APIVersion(res.gvk.GroupVersion().String()): fieldpath.NewExcludeSetFilter(set),
	}
}

// strategyDefaulter defaults an applied object as a created or updated one
// is, so the defaulted keys of associative lists (a port's protocol) are
// there when the merge needs them.
type strategyDefaulter struct{ st strategy }

func (d strategyDefaulter) Default(obj runtime.Object) {
	if d.st.defaults != nil {
		d.st.defaults(obj)
	}
}

// trackUpdate records a create, update or non-apply patch in obj's managed
// fields as an Update operation of the request's manager; live is the stored
// object (nil on create). managed are the managed fields the client sent
// (nil: keep the stored ones). Where no field manager applies, the stored
// managed fields are kept as they are.
func (s *Server) trackUpdate(q *request, obj, live runtime.Object, managed []metav1.ManagedFieldsEntry) runtime.Object {
	m, err := meta.Accessor(obj)
	if err != nil {
		return obj
	}
	fm, err := s.fields.forResource(q.res, q.info.subresource)
	if err != nil || fm == nil {
		m.SetManagedFields(managedFieldsOf(live))
		return obj
	}
	if live == nil {
		live = s.fields.typed(q.res)
	}
	m.SetManagedFields(managed)
	return fm.UpdateNoErrors(live, obj, managerOrUserAgent(q.r.URL.Query().Get("fieldManager"), q.r.UserAgent()))
}

// managerOrUserAgent is the manager of a write that names none: the user
// agent up to its first "/", printable characters only, at most 128 bytes
// (kube-apiserver's rule).
func managerOrUserAgent(manager, userAgent string) string {
	if manager != "" {
		return manager
	}
	name, _, _ := strings.Cut(userAgent, "/")
	var buf bytes.Buffer
	for _, r := range name {
		if !unicode.IsPrint(r) {
			continue
		}
		if buf.Len()+utf8.RuneLen(r) > metav1validation.FieldManagerMaxLength {
			break
		}
		buf.WriteRune(r)
	}
	return buf.String()
}

// managedFieldsOf is obj's managed fields; nil for nil or an object without
// metadata.
func managedFieldsOf(obj runtime.Object) []metav1.ManagedFieldsEntry {
	if obj == nil {
		return nil
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil
	}
	return m.GetManagedFields()
}
