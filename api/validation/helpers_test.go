package validation

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// summary renders errs as "field: Type" lines, sorted, so tables can say
// which errors they expect without repeating every message.
func summary(errs field.ErrorList) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, e.Field+": "+e.Type.String())
	}
	slices.Sort(out)
	return out
}

func assertErrors(t *testing.T, errs field.ErrorList, want []string) {
	t.Helper()
	got := summary(errs)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n  got  %s\n  want %s\nfull: %v", strings.Join(got, "; "), strings.Join(want, "; "), errs)
	}
}

func ptrTo[T any](v T) *T { return &v }
