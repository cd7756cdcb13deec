package pleg

import (
	"reflect"
	"testing"
)

func TestDiff(t *testing.T) {
	before := map[string]string{"c1": "Running", "c2": "Running", "gone": "Exited"}
	after := map[string]string{"c1": "Running", "c2": "Exited", "new": "Created"}
	owners := map[string]string{"c1": "pod-a", "c2": "pod-b", "new": "pod-c", "gone": "pod-d"}
	got := diff(before, after, owners)
	want := map[string]bool{"pod-b": true, "pod-c": true, "pod-d": true}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("changed pods %v, want %v", got, want)
	}
}
