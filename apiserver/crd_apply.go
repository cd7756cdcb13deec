package apiserver

import (
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/controller/openapi/builder"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
)

// customTypeConverter is the structured-merge-diff schema server-side apply
// and managed fields use for a custom resource version, built as
// apiextensions-apiserver builds it: the version's OpenAPI v3 document (its
// structural schema beside ObjectMeta and the other models it refers to),
// its components read by managedfields. A definition whose document cannot
// be built falls back, as kube's, to the deduced converter (every field an
// atomic or a map, lists atomic).
func customTypeConverter(crd *apiextensionsv1.CustomResourceDefinition, version string) managedfields.TypeConverter {
	doc, err := builder.BuildOpenAPIV3(crd, version, builder.Options{})
	if err != nil || doc.Components == nil || len(doc.Components.Schemas) == 0 {
		return managedfields.NewDeducedTypeConverter()
	}
	tc, err := managedfields.NewTypeConverter(doc.Components.Schemas, crd.Spec.PreserveUnknownFields)
	if err != nil {
		return managedfields.NewDeducedTypeConverter()
	}
	return tc
}

// customObjects creates and converts a custom resource's objects for its
// field manager: unstructured, and between versions only their apiVersion
// changes (conversion None, the only strategy the server accepts).
type customObjects struct{}

func (customObjects) New(kind schema.GroupVersionKind) (runtime.Object, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(kind)
	return u, nil
}

func (customObjects) Convert(in, out, _ any) error {
	src, ok := in.(*unstructured.Unstructured)
	dst, ok2 := out.(*unstructured.Unstructured)
	if !ok || !ok2 {
		return fmt.Errorf("custom resource conversion of %T to %T", in, out)
	}
	dst.Object = runtime.DeepCopyJSON(src.Object)
	return nil
}

func (customObjects) ConvertToVersion(in runtime.Object, target runtime.GroupVersioner) (runtime.Object, error) {
	u, ok := in.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("custom resource conversion of %T", in)
	}
	gvk, ok := target.KindForGroupVersionKinds([]schema.GroupVersionKind{u.GroupVersionKind()})
	if !ok {
		return nil, fmt.Errorf("no conversion of %s to %v", u.GroupVersionKind(), target)
	}
	out := u.DeepCopy()
	out.SetGroupVersionKind(gvk)
	return out, nil
}

func (customObjects) ConvertFieldLabel(_ schema.GroupVersionKind, label, value string) (string, string, error) {
	return label, value, nil
}
