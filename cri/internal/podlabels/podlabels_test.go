package podlabels

import (
	"maps"
	"testing"

	"github.com/nodeagent/nodeagent/cri"
)

func TestContainerInheritsPodIdentity(t *testing.T) {
	sandbox := Sandbox(cri.SandboxConfig{Labels: map[string]string{
		cri.LabelPodUID: "u1", cri.LabelPodName: "web", cri.LabelPodNamespace: "default", "app": "web",
	}})
	got := Container(sandbox, cri.ContainerConfig{Name: "c", Labels: map[string]string{"x": "y"}})
	want := map[string]string{
		cri.LabelPodUID: "u1", cri.LabelPodName: "web", cri.LabelPodNamespace: "default",
		cri.LabelContainerName: "c", cri.LabelKind: KindContainer, "x": "y",
	}
	if !maps.Equal(got, want) {
		t.Errorf("Container() = %v, want %v", got, want)
	}
}

func TestMatch(t *testing.T) {
	labels := map[string]string{"a": "1", "b": "2"}
	for _, tc := range []struct {
		filter map[string]string
		want   bool
	}{
		{nil, true},
		{map[string]string{"a": "1"}, true},
		{map[string]string{"a": "1", "b": "2"}, true},
		{map[string]string{"a": "2"}, false},
		{map[string]string{"c": ""}, false},
	} {
		if got := Match(labels, tc.filter); got != tc.want {
			t.Errorf("Match(%v) = %v, want %v", tc.filter, got, tc.want)
		}
	}
}
