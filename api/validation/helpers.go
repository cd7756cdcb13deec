package validation

import (
	"cmp"
	"maps"
	"path"
	"reflect"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const (
	fileModeMsg     = "must be a number between 0 and 0777 (octal), both inclusive"
	nonNegativeMsg  = "must be greater than or equal to 0"
	positiveMsg     = "must be greater than zero"
	immutableMsg    = "field is immutable"
	maxFileModeBits = 0o777
)

// invalids turns validator messages about value into Invalid errors at fld.
func invalids(fld *field.Path, value any, msgs []string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range msgs {
		errs = append(errs, field.Invalid(fld, value, msg))
	}
	return errs
}

func dnsLabel(value string, fld *field.Path) field.ErrorList {
	return invalids(fld, value, validation.IsDNS1123Label(value))
}

func dnsSubdomain(value string, fld *field.Path) field.ErrorList {
	return invalids(fld, value, validation.IsDNS1123Subdomain(value))
}

func qualifiedName(value string, fld *field.Path) field.ErrorList {
	return invalids(fld, value, validation.IsQualifiedName(value))
}

// requiredDNSLabel is Required when value is empty and dnsLabel otherwise.
func requiredDNSLabel(value string, fld *field.Path) field.ErrorList {
	if value == "" {
		return field.ErrorList{field.Required(fld, "")}
	}
	return dnsLabel(value, fld)
}

func nonNegative(value int64, fld *field.Path) field.ErrorList {
	if value < 0 {
		return field.ErrorList{field.Invalid(fld, value, nonNegativeMsg)}
	}
	return nil
}

func portNum(port int32, fld *field.Path) field.ErrorList {
	return invalids(fld, port, validation.IsValidPortNum(int(port)))
}

// portNumOrName accepts a port number in 1-65535 or an IANA_SVC_NAME.
func portNumOrName(port intstr.IntOrString, fld *field.Path) field.ErrorList {
	if port.Type == intstr.String {
		return invalids(fld, port.StrVal, validation.IsValidPortName(port.StrVal))
	}
	return invalids(fld, port.IntVal, validation.IsValidPortNum(int(port.IntVal)))
}

// enum reports Required for an empty value and NotSupported for one not in
// valid.
func enum[T ~string](value T, fld *field.Path, valid ...T) field.ErrorList {
	if value == "" {
		return field.ErrorList{field.Required(fld, "")}
	}
	return optionalEnum(value, fld, valid...)
}

// optionalEnum is enum for fields where empty means "unset".
func optionalEnum[T ~string](value T, fld *field.Path, valid ...T) field.ErrorList {
	if value == "" || slices.Contains(valid, value) {
		return nil
	}
	return field.ErrorList{field.NotSupported(fld, value, valid)}
}

func fileMode(mode *int32, fld *field.Path) field.ErrorList {
	if mode != nil && (*mode < 0 || *mode > maxFileModeBits) {
		return field.ErrorList{field.Invalid(fld, *mode, fileModeMsg)}
	}
	return nil
}

// relativePath checks a path that must stay inside a directory: relative
// and free of "..".
func relativePath(p string, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if path.IsAbs(p) {
		errs = append(errs, field.Invalid(fld, p, "must be a relative path"))
	}
	return append(errs, noBacksteps(p, fld)...)
}

func noBacksteps(p string, fld *field.Path) field.ErrorList {
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return field.ErrorList{field.Invalid(fld, p, "must not contain '..'")}
		}
	}
	return nil
}

// setMembers lists, by JSON name, the non-nil pointer fields of the struct
// that ptr points to: the chosen members of a one-of such as VolumeSource.
func setMembers(ptr any) []string {
	v := reflect.ValueOf(ptr).Elem()
	var names []string
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() == reflect.Pointer && !f.IsNil() {
			names = append(names, jsonName(v.Type().Field(i)))
		}
	}
	return names
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}

// exactlyOne reports a one-of with no member set as Required at fld, and
// every member beyond the first as Forbidden.
func exactlyOne(fld *field.Path, members []string, noneMsg, manyMsg string) field.ErrorList {
	if len(members) == 0 {
		return field.ErrorList{field.Required(fld, noneMsg)}
	}
	var errs field.ErrorList
	for _, m := range members[1:] {
		errs = append(errs, field.Forbidden(fld.Child(m), manyMsg))
	}
	return errs
}

// sortedKeys gives map keys in order, so errors come out deterministically.
func sortedKeys[M ~map[K]V, K cmp.Ordered, V any](m M) []K {
	return slices.Sorted(maps.Keys(m))
}

func ptrValue[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
