package validation

import (
	"reflect"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const (
	// MaxDataSize is the most a ConfigMap's or Secret's values may hold.
	MaxDataSize      = 1 << 20
	immutableDataMsg = "field is immutable when `immutable` is set"
)

// ConfigMap validates a config map on create: keys are valid config keys,
// a key is in data or binaryData but not both, values total at most 1MiB.
func ConfigMap(cm *corev1.ConfigMap) field.ErrorList {
	errs := ObjectMeta(&cm.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain)
	dataPath, binPath := field.NewPath("data"), field.NewPath("binaryData")
	size := 0
	for _, k := range sortedKeys(cm.Data) {
		errs = append(errs, invalids(dataPath.Key(k), k, validation.IsConfigMapKey(k))...)
		if _, dup := cm.BinaryData[k]; dup {
			errs = append(errs, field.Invalid(dataPath.Key(k), k, "duplicate of key present in binaryData"))
		}
		size += len(cm.Data[k])
	}
	for _, k := range sortedKeys(cm.BinaryData) {
		errs = append(errs, invalids(binPath.Key(k), k, validation.IsConfigMapKey(k))...)
		size += len(cm.BinaryData[k])
	}
	if size > MaxDataSize {
		errs = append(errs, field.TooLong(dataPath, "", MaxDataSize))
	}
	return errs
}

// ConfigMapUpdate validates an update: an immutable config map keeps its
// data and binaryData and stays immutable (kube's ValidateConfigMapUpdate).
func ConfigMapUpdate(newCM, oldCM *corev1.ConfigMap) field.ErrorList {
	errs := ObjectMetaUpdate(&newCM.ObjectMeta, &oldCM.ObjectMeta)
	if isTrue(oldCM.Immutable) {
		errs = append(errs, stillImmutable(newCM.Immutable)...)
		errs = append(errs, unchanged("data", newCM.Data, oldCM.Data)...)
		errs = append(errs, unchanged("binaryData", newCM.BinaryData, oldCM.BinaryData)...)
	}
	return append(errs, ConfigMap(newCM)...)
}

// stillImmutable: once immutable, an object stays so; leaving the field
// out turns it off and is refused as well.
func stillImmutable(newImmutable *bool) field.ErrorList {
	if isTrue(newImmutable) {
		return nil
	}
	return field.ErrorList{field.Forbidden(field.NewPath("immutable"), immutableDataMsg)}
}

// unchanged refuses a change of the named data field of an immutable object.
func unchanged(name string, newData, oldData any) field.ErrorList {
	if reflect.DeepEqual(newData, oldData) {
		return nil
	}
	return field.ErrorList{field.Forbidden(field.NewPath(name), immutableDataMsg)}
}

func isTrue(b *bool) bool { return b != nil && *b }
