package validation

import (
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// redacted stands in for secret contents in error values.
const redacted = "<secret contents redacted>"

// Secret validates a secret on create: data keys and size as for a
// ConfigMap, plus the keys its type requires. stringData must already have
// been merged into data (defaults.Secret does that).
func Secret(s *corev1.Secret) field.ErrorList {
	errs := ObjectMeta(&s.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain)
	dataPath := field.NewPath("data")
	size := 0
	for _, k := range sortedKeys(s.Data) {
		errs = append(errs, invalids(dataPath.Key(k), k, validation.IsConfigMapKey(k))...)
		size += len(s.Data[k])
	}
	if size > MaxDataSize {
		errs = append(errs, field.TooLong(dataPath, "", MaxDataSize))
	}
	return append(errs, secretTypeKeys(s, dataPath)...)
}

// secretTypeKeys checks the keys each built-in secret type needs.
func secretTypeKeys(s *corev1.Secret, dataPath *field.Path) field.ErrorList {
	switch s.Type {
	case corev1.SecretTypeServiceAccountToken:
		if s.Annotations[corev1.ServiceAccountNameKey] == "" {
			return field.ErrorList{field.Required(field.NewPath("metadata", "annotations").Key(corev1.ServiceAccountNameKey), "")}
		}
	case corev1.SecretTypeDockercfg:
		return jsonKey(s.Data, corev1.DockerConfigKey, dataPath)
	case corev1.SecretTypeDockerConfigJson:
		return jsonKey(s.Data, corev1.DockerConfigJsonKey, dataPath)
	case corev1.SecretTypeBasicAuth:
		return basicAuthKeys(s.Data, dataPath)
	case corev1.SecretTypeSSHAuth:
		if len(s.Data[corev1.SSHAuthPrivateKey]) == 0 {
			return field.ErrorList{field.Required(dataPath.Key(corev1.SSHAuthPrivateKey), "")}
		}
	case corev1.SecretTypeTLS:
		return presentKeys(s.Data, dataPath, corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
	}
	return nil
}

// jsonKey: key must be present and hold a JSON object.
func jsonKey(data map[string][]byte, key string, dataPath *field.Path) field.ErrorList {
	raw, ok := data[key]
	if !ok {
		return field.ErrorList{field.Required(dataPath.Key(key), "")}
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		return field.ErrorList{field.Invalid(dataPath.Key(key), redacted, err.Error())}
	}
	return nil
}

// basicAuthKeys: a username or a password, either of which may be empty.
func basicAuthKeys(data map[string][]byte, dataPath *field.Path) field.ErrorList {
	_, user := data[corev1.BasicAuthUsernameKey]
	_, pass := data[corev1.BasicAuthPasswordKey]
	if user || pass {
		return nil
	}
	return presentKeys(data, dataPath, corev1.BasicAuthUsernameKey, corev1.BasicAuthPasswordKey)
}

func presentKeys(data map[string][]byte, dataPath *field.Path, keys ...string) field.ErrorList {
	var errs field.ErrorList
	for _, k := range keys {
		if _, ok := data[k]; !ok {
			errs = append(errs, field.Required(dataPath.Key(k), ""))
		}
	}
	return errs
}

// SecretUpdate validates an update: the type never changes, and an
// immutable secret keeps its data and stays immutable (kube's
// ValidateSecretUpdate). stringData has been merged into data by then.
func SecretUpdate(newS, oldS *corev1.Secret) field.ErrorList {
	errs := ObjectMetaUpdate(&newS.ObjectMeta, &oldS.ObjectMeta)
	errs = append(errs, apimachineryvalidation.ValidateImmutableField(newS.Type, oldS.Type, field.NewPath("type"))...)
	if isTrue(oldS.Immutable) {
		errs = append(errs, stillImmutable(newS.Immutable)...)
		errs = append(errs, unchanged("data", newS.Data, oldS.Data)...)
	}
	return append(errs, Secret(newS)...)
}
