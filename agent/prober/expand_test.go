package prober

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestExpandStatic(t *testing.T) {
	env := []corev1.EnvVar{
		{Name: "PORT", Value: "8080"},
		{Name: "FROM", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
	}
	for in, want := range map[string]string{
		"$(PORT)":            "8080",
		"x$(PORT)y$(PORT)":   "x8080y8080",
		"$(FROM)":            "", // valueFrom is not resolved for probes
		"$(NOPE)":            "$(NOPE)",
		"$$(PORT)":           "$(PORT)",
		"$PORT":              "$PORT",
		"cost: $":            "cost: $",
		"$(PORT":             "$(PORT",
		"a $$ b":             "a $ b",
		"plain":              "plain",
		"$(PORT)/$(UNKNOWN)": "8080/$(UNKNOWN)",
	} {
		got := expandStatic([]string{in}, env)
		if !reflect.DeepEqual(got, []string{want}) {
			t.Errorf("expand(%q) = %q, want %q", in, got[0], want)
		}
	}
}
