package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	schemavalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apiextensions-apiserver/pkg/registry/customresource/tableconvertor"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/nodeagent/nodeagent/api/validation"
	"github.com/nodeagent/nodeagent/apiserver/printers"
	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// customInfo is what a custom resource's *resource carries beyond the
// built-in ones: the definition it comes from and its printer columns.
type customInfo struct {
	crd   string // the CustomResourceDefinition's name
	table rest.TableConvertor
	store *storage.Store
	// prune drops the fields the schema does not know and returns their
	// paths.
	prune func(u *unstructured.Unstructured) []string
	// scale: the version declares the scale subresource.
	scale *customScale
	// typeConverter builds the version's schema for server-side apply
	// (customTypeConverter), when its field manager is first needed.
	typeConverter func() managedfields.TypeConverter
	// managers are its field managers, made on first use
	// (guarded by fieldManagers.mu): they go with the resource when the
	// definition changes.
	managers map[fieldManagerKey]*managedfields.FieldManager
}

// customResources returns the resources an established definition serves,
// one per served version; all versions share one store prefix,
// /registry/<group>/<plural>, as kube's. A terminating definition serves no
// create (kube: 405).
func (c *crdScheme) customResources(crd *apiextensionsv1.CustomResourceDefinition) ([]*resource, error) {
	in, err := c.internal(crd)
	if err != nil {
		return nil, err
	}
	var out []*resource
	for _, v := range crd.Spec.Versions {
		if !v.Served {
			continue
		}
		r, err := customResource(crd, in, v)
		if err != nil {
			return nil, fmt.Errorf("%s version %s: %w", crd.Name, v.Name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func customResource(crd *apiextensionsv1.CustomResourceDefinition, in *apiextensions.CustomResourceDefinition, v apiextensionsv1.CustomResourceDefinitionVersion) (*resource, error) {
	names := crd.Status.AcceptedNames
	gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: names.Kind}
	structural, err := versionSchema(in, v.Name)
	if err != nil {
		return nil, err
	}
	st, err := customStrategy(in, v.Name, structural)
	if err != nil {
		return nil, err
	}
	table, err := tableconvertor.New(printerColumns(v.AdditionalPrinterColumns))
	if err != nil {
		return nil, err
	}
	r := &resource{gvk: gvk, plural: names.Plural, singular: names.Singular, shortNames: names.ShortNames,
		categories: names.Categories, namespaced: crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
		newObj: func() runtime.Object {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(gvk)
			return u
		},
		newList: func() runtime.Object {
			l := &unstructured.UnstructuredList{}
			l.SetGroupVersionKind(gvk.GroupVersion().WithKind(names.ListKind))
			return l
		},
		strategy: st, custom: &customInfo{crd: crd.Name, table: table, prune: func(u *unstructured.Unstructured) []string {
			return pruning.PruneWithOptions(u.Object, structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
		}, typeConverter: func() managedfields.TypeConverter { return customTypeConverter(crd, v.Name) }}}
	if v.Subresources != nil && v.Subresources.Status != nil {
		r.subresources = []string{"status"}
		r.strategy = withCustomStatus(r.strategy)
	}
	if v.Subresources != nil && v.Subresources.Scale != nil {
		r.subresources = append(r.subresources, "scale")
		r.custom.scale = newCustomScale(v.Subresources.Scale)
	}
	if crd.DeletionTimestamp != nil {
		r.verbs = slices.DeleteFunc(slices.Clone(objectVerbs), func(v string) bool { return v == "create" })
	}
	return r, nil
}

// versionSchema is the structural schema of a version (v1 requires one).
func versionSchema(in *apiextensions.CustomResourceDefinition, version string) (*structuralschema.Structural, error) {
	v, err := apiextensions.GetSchemaForVersion(in, version)
	if err != nil || v == nil || v.OpenAPIV3Schema == nil {
		return nil, fmt.Errorf("no schema: %v", err)
	}
	return structuralschema.NewStructural(v.OpenAPIV3Schema)
}

// printerColumns are the version's columns; none: kube's Age column.
func printerColumns(cols []apiextensionsv1.CustomResourceColumnDefinition) []apiextensionsv1.CustomResourceColumnDefinition {
	if len(cols) > 0 {
		return cols
	}
	return []apiextensionsv1.CustomResourceColumnDefinition{{Name: "Age", Type: "date", JSONPath: ".metadata.creationTimestamp"}}
}

// customStrategy prunes unknown fields and applies the schema's defaults,
// then validates against the version's openAPIV3Schema with kube's
// validator, so errors carry kube's field paths and messages.
func customStrategy(in *apiextensions.CustomResourceDefinition, version string, structural *structuralschema.Structural) (strategy, error) {
	v, _ := apiextensions.GetSchemaForVersion(in, version)
	validator, _, err := schemavalidation.NewSchemaValidator(v.OpenAPIV3Schema)
	if err != nil {
		return strategy{}, err
	}
	namespaced := in.Spec.Scope == apiextensions.NamespaceScoped
	rules := cel.NewValidator(structural, true, celconfig.PerCallLimit) // nil: no x-kubernetes-validations
	return strategy{
		defaults: func(obj runtime.Object) {
			u := obj.(*unstructured.Unstructured)
			pruning.Prune(u.Object, structural, true)
			defaulting.Default(u.Object, structural)
		},
		validate: func(obj runtime.Object) field.ErrorList {
			u := obj.(*unstructured.Unstructured)
			errs := apimachineryvalidation.ValidateObjectMetaAccessor(u, namespaced, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
			errs = append(errs, schemavalidation.ValidateCustomResource(nil, u.UnstructuredContent(), validator)...)
			return append(errs, validateRules(rules, structural, u, nil, errs)...)
		},
		validateUpdate: func(obj, old runtime.Object) field.ErrorList {
			u, o := obj.(*unstructured.Unstructured), old.(*unstructured.Unstructured)
			errs := validation.ObjectMetaAccessorUpdate(u, o)
			errs = append(errs, apimachineryvalidation.ValidateObjectMetaAccessor(u, namespaced, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))...)
			errs = append(errs, schemavalidation.ValidateCustomResourceUpdate(nil, u.UnstructuredContent(), o.UnstructuredContent(), validator)...)
			return append(errs, validateRules(rules, structural, u, o, errs)...)
		},
		specChanged: func(obj, old runtime.Object) bool {
			return !reflect.DeepEqual(withoutMeta(obj, false), withoutMeta(old, false))
		},
	}, nil
}

// validateRules checks the list types and runs the schema's
// x-kubernetes-validations (CEL, with kube's cost limits; old is nil on
// create), once the object has passed the schema as kube does.
func validateRules(rules *cel.Validator, s *structuralschema.Structural, u, old *unstructured.Unstructured, prior field.ErrorList) field.ErrorList {
	errs := structurallisttype.ValidateListSetsAndMaps(nil, s, u.Object)
	if rules == nil || len(prior) > 0 || len(errs) > 0 {
		return errs
	}
	var oldObj any
	if old != nil {
		oldObj = old.Object
	}
	ruleErrs, _ := rules.Validate(context.Background(), nil, s, u.Object, oldObj, celconfig.RuntimeCELCostBudget)
	return ruleErrs
}

// withCustomStatus is withStatus for unstructured objects: status is
// dropped on create, kept from the stored object on the object's own
// writes; a status write changes nothing but status; the generation moves
// when anything but metadata and status changes.
func withCustomStatus(st strategy) strategy {
	st.hasStatus = true
	st.prepareCreate = func(obj runtime.Object) { delete(obj.(*unstructured.Unstructured).Object, "status") }
	st.keepStatus = func(obj, old runtime.Object) {
		u := obj.(*unstructured.Unstructured)
		if s, ok := old.(*unstructured.Unstructured).Object["status"]; ok {
			u.Object["status"] = runtime.DeepCopyJSONValue(s)
		} else {
			delete(u.Object, "status")
		}
	}
	st.keepSpec = func(obj, old runtime.Object) {
		u := obj.(*unstructured.Unstructured)
		s, ok := u.Object["status"]
		u.Object = old.(*unstructured.Unstructured).DeepCopy().Object
		if ok {
			u.Object["status"] = s
		} else {
			delete(u.Object, "status")
		}
	}
	st.specChanged = func(obj, old runtime.Object) bool {
		return !reflect.DeepEqual(withoutMeta(obj, true), withoutMeta(old, true))
	}
	return st
}

// withoutMeta is the object's content but metadata (and status).
func withoutMeta(obj runtime.Object, noStatus bool) map[string]any {
	out := map[string]any{}
	for k, v := range obj.(*unstructured.Unstructured).Object {
		if k != "metadata" && (k != "status" || !noStatus) {
			out[k] = v
		}
	}
	return out
}

// customTable renders custom resources with their printer columns.
func customTable(info *customInfo, objs []runtime.Object, policy metav1.IncludeObjectPolicy) (*metav1.Table, error) {
	t := &metav1.Table{Rows: []metav1.TableRow{}}
	for i, o := range objs {
		one, err := info.table.ConvertToTable(context.Background(), o, nil)
		if err != nil {
			return nil, err
		}
		if i == 0 || t.ColumnDefinitions == nil {
			t.ColumnDefinitions = one.ColumnDefinitions
		}
		t.Rows = append(t.Rows, one.Rows...)
	}
	if t.ColumnDefinitions == nil {
		empty, err := info.table.ConvertToTable(context.Background(), &unstructured.UnstructuredList{}, nil)
		if err != nil {
			return nil, err
		}
		t.ColumnDefinitions = empty.ColumnDefinitions
	}
	for i := range t.Rows {
		if err := printers.IncludeObject(&t.Rows[i], objs[i], policy); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// customTable is the Table of custom resources, with the version's
// printer columns.
func (s *Server) customTable(q *request, objs []runtime.Object, cont string) (*metav1.Table, error) {
	policy := metav1.IncludeObjectPolicy(q.r.URL.Query().Get("includeObject"))
	if policy == "" {
		policy = metav1.IncludeMetadata
	}
	t, err := customTable(q.res.custom, objs, policy)
	if err != nil {
		return nil, err
	}
	t.TypeMeta = metav1.TypeMeta{Kind: "Table", APIVersion: "meta.k8s.io/v1"}
	t.Continue = cont
	return t, nil
}

// jsonForCustom answers custom resources in JSON when the client preferred
// protobuf, which they have no encoding in (kube: JSON, YAML or CBOR).
func (c *codecs) jsonForCustom(out output, res *resource) output {
	if res.custom != nil && out.info.MediaType == mediaProtobuf {
		out.info = c.json
	}
	return out
}

// customStrategicMerge is kube's refusal of a strategic merge patch of a
// custom resource (it has no patch strategy).
func customStrategicMerge() error {
	return apierrors.NewGenericServerResponse(http.StatusUnsupportedMediaType, "patch", schema.GroupResource{}, "",
		fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: %s, %s, %s",
			types.JSONPatchType, types.MergePatchType, types.ApplyYAMLPatchType), 0, false)
}

// decodeResource decodes a body of the resource's type; a custom
// resource's unknown fields are pruned, and reported as kube does: refused
// with Strict, Warning headers with Warn.
func (c *codecs) decodeResource(w http.ResponseWriter, data []byte, mediaType string, mode fieldValidation, res *resource) (runtime.Object, error) {
	obj, err := c.decode(w, data, mediaType, mode, res.gvk, res.newObj())
	if err != nil || res.custom == nil {
		return obj, err
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	var unknown []string
	for _, p := range res.custom.prune(u) {
		unknown = append(unknown, fmt.Sprintf("unknown field %q", p))
	}
	switch {
	case len(unknown) == 0 || mode == validationIgnore:
	case mode == validationStrict:
		return nil, apierrors.NewBadRequest(cannotHandle(res.gvk, fmt.Errorf("strict decoding error: %s", strings.Join(unknown, ", "))))
	default:
		for _, e := range unknown {
			w.Header().Add("Warning", fmt.Sprintf("299 - %q", e))
		}
	}
	return u, nil
}
