package validation

import (
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// NameFunc checks an object's name (prefix is true for generateName).
// apimachinery provides NameIsDNSSubdomain, NameIsDNSLabel and
// NameIsDNS1035Label.
type NameFunc = apimachineryvalidation.ValidateNameFunc

// ObjectMeta validates the metadata of a new object: name (or generateName)
// by nameFn, namespace required when namespaced and forbidden otherwise,
// labels, annotations, owner references and finalizers. Names must already
// have been generated from generateName.
func ObjectMeta(meta *metav1.ObjectMeta, namespaced bool, nameFn NameFunc) field.ErrorList {
	return apimachineryvalidation.ValidateObjectMeta(meta, namespaced, nameFn, metadataPath())
}

// ObjectMetaUpdate validates metadata on update: name, namespace, uid and
// creationTimestamp are immutable and resourceVersion must be set.
func ObjectMetaUpdate(newMeta, oldMeta *metav1.ObjectMeta) field.ErrorList {
	return apimachineryvalidation.ValidateObjectMetaUpdate(newMeta, oldMeta, metadataPath())
}

func metadataPath() *field.Path { return field.NewPath("metadata") }

// ObjectMetaAccessorUpdate is ObjectMetaUpdate for any object's metadata.
func ObjectMetaAccessorUpdate(newMeta, oldMeta metav1.Object) field.ErrorList {
	return apimachineryvalidation.ValidateObjectMetaAccessorUpdate(newMeta, oldMeta, metadataPath())
}
