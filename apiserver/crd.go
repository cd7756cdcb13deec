package apiserver

import (
	"context"
	"fmt"
	"slices"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	crdvalidation "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// crdCleanupFinalizer holds a CustomResourceDefinition until its custom
// resources are gone (crd_controller.go removes it).
const crdCleanupFinalizer = apiextensionsv1.CustomResourceCleanupFinalizer

var crdGVK = apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition")

// crdScheme converts CustomResourceDefinitions between v1 and the internal
// version kube's validation reads, and applies the v1 defaults.
type crdScheme struct{ scheme *runtime.Scheme }

func newCRDScheme() (*crdScheme, error) {
	s := runtime.NewScheme()
	if err := apiextensions.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("apiextensions scheme: %w", err)
	}
	if err := apiextensionsv1.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("apiextensions v1 scheme: %w", err)
	}
	return &crdScheme{scheme: s}, nil
}

// internal converts a v1 CustomResourceDefinition to the internal version.
func (c *crdScheme) internal(crd *apiextensionsv1.CustomResourceDefinition) (*apiextensions.CustomResourceDefinition, error) {
	out := &apiextensions.CustomResourceDefinition{}
	if err := c.scheme.Convert(crd.DeepCopy(), out, nil); err != nil {
		return nil, fmt.Errorf("convert %s: %w", crd.Name, err)
	}
	return out, nil
}

// crdResources is apiextensions.k8s.io/v1 CustomResourceDefinition.
func crdResources(c *crdScheme) []*resource {
	return []*resource{{gvk: crdGVK, plural: "customresourcedefinitions", singular: "customresourcedefinition",
		shortNames: []string{"crd", "crds"}, categories: []string{"api-extensions"}, subresources: []string{"status"},
		newObj:  func() runtime.Object { return &apiextensionsv1.CustomResourceDefinition{} },
		newList: func() runtime.Object { return &apiextensionsv1.CustomResourceDefinitionList{} },
		strategy: withStatus(strategy{defaults: c.scheme.Default,
			validate:       typedV(c.validate),
			validateUpdate: typedU(c.validateUpdate),
			prepareCreate:  typed(prepareCRDCreate),
			prepareUpdate:  typedPair(prepareCRDUpdate)})}}
}

// prepareCRDCreate is kube's create strategy: no status but the storage
// version as the stored version; the cleanup finalizer that makes a delete
// wait for the custom resources.
func prepareCRDCreate(crd *apiextensionsv1.CustomResourceDefinition) {
	crd.Status = apiextensionsv1.CustomResourceDefinitionStatus{StoredVersions: []string{}}
	if v := storageVersion(crd); v != "" {
		crd.Status.StoredVersions = []string{v}
	}
	if !slices.Contains(crd.Finalizers, crdCleanupFinalizer) {
		crd.Finalizers = append(crd.Finalizers, crdCleanupFinalizer)
	}
}

// prepareCRDUpdate records a new storage version in status.storedVersions.
func prepareCRDUpdate(crd, old *apiextensionsv1.CustomResourceDefinition) {
	if v := storageVersion(crd); v != "" && !slices.Contains(crd.Status.StoredVersions, v) {
		crd.Status.StoredVersions = append(crd.Status.StoredVersions, v)
	}
}

func storageVersion(crd *apiextensionsv1.CustomResourceDefinition) string {
	for _, v := range crd.Spec.Versions {
		if v.Storage {
			return v.Name
		}
	}
	return ""
}

func (c *crdScheme) validate(crd *apiextensionsv1.CustomResourceDefinition) field.ErrorList {
	in, err := c.internal(crd)
	if err != nil {
		return field.ErrorList{field.InternalError(nil, err)}
	}
	return append(crdvalidation.ValidateCustomResourceDefinition(context.Background(), in), onlyNoneConversion(crd)...)
}

func (c *crdScheme) validateUpdate(crd, old *apiextensionsv1.CustomResourceDefinition) field.ErrorList {
	in, err := c.internal(crd)
	if err != nil {
		return field.ErrorList{field.InternalError(nil, err)}
	}
	oldIn, err := c.internal(old)
	if err != nil {
		return field.ErrorList{field.InternalError(nil, err)}
	}
	return append(crdvalidation.ValidateCustomResourceDefinitionUpdate(context.Background(), in, oldIn), onlyNoneConversion(crd)...)
}

// onlyNoneConversion refuses webhook conversion: nodeagent runs no
// conversion webhooks, so versions may differ only in their apiVersion.
func onlyNoneConversion(crd *apiextensionsv1.CustomResourceDefinition) field.ErrorList {
	c := crd.Spec.Conversion
	if c == nil || c.Strategy == apiextensionsv1.NoneConverter {
		return nil
	}
	return field.ErrorList{field.NotSupported(field.NewPath("spec", "conversion", "strategy"), c.Strategy,
		[]string{string(apiextensionsv1.NoneConverter)})}
}
