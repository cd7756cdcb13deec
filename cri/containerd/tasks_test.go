package containerd

import (
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/pkg/filters"

	"github.com/nodeagent/nodeagent/cri"
)

// TestLabelFilter: the filter a pod's List* sends parses as containerd
// parses it, and selects the records of that kind with every label
// asked for, whatever the label's characters.
func TestLabelFilter(t *testing.T) {
	query := map[string]string{cri.LabelPodUID: "0a1b-2c3d", cri.LabelPodNamespace: "kube-system", cri.LabelContainerName: "c.1_x"}
	f, err := filters.Parse(labelFilter("container", query))
	if err != nil {
		t.Fatalf("containerd refuses the filter %q: %v", labelFilter("container", query), err)
	}
	labels := func(l map[string]string) filters.Adaptor {
		return filters.AdapterFunc(func(path []string) (string, bool) {
			if len(path) < 2 || path[0] != "labels" {
				return "", false
			}
			v, ok := l[strings.Join(path[1:], ".")]
			return v, ok
		})
	}
	match := map[string]string{cri.LabelKind: "container", cri.LabelPodUID: "0a1b-2c3d", cri.LabelPodNamespace: "kube-system",
		cri.LabelContainerName: "c.1_x", "other": "label"}
	if !f.Match(labels(match)) {
		t.Error("the pod's container does not match")
	}
	for _, k := range []string{cri.LabelKind, cri.LabelPodUID, cri.LabelContainerName} {
		other := map[string]string{}
		for kk, v := range match {
			other[kk] = v
		}
		other[k] = "else"
		if f.Match(labels(other)) {
			t.Errorf("a record with another %s matches", k)
		}
	}
	if got := labelFilter("sandbox", nil); got != `labels."io.nodeagent.kind"==sandbox` {
		t.Errorf("unfiltered: %s", got)
	}
}
