package admission

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	kubeletapis "k8s.io/kubelet/pkg/apis"
)

// admitNode: a node creates and updates only its own Node; it may not set
// a config source, change its taints, or set or change labels kube keeps
// from kubelets (node-restriction.kubernetes.io/*, and kubernetes.io and
// k8s.io labels outside the kubelet's own set, node-role.kubernetes.io/*
// among them).
func admitNode(node string, a Attributes) error {
	if a.name() != node {
		return forbidden(a, fmt.Errorf("node %q is not allowed to modify node %q", node, a.name()))
	}
	n, ok := a.Object.(*corev1.Node)
	switch {
	case a.Operation == Delete:
		return nil
	case !ok:
		return forbidden(a, fmt.Errorf("unexpected type %T", a.Object))
	case a.Operation == Create:
		return admitNodeCreate(node, a, n)
	}
	old, ok := a.Old.(*corev1.Node)
	if !ok {
		return forbidden(a, fmt.Errorf("unexpected type %T", a.Object))
	}
	return admitNodeUpdate(node, a, n, old)
}

func admitNodeCreate(node string, a Attributes, n *corev1.Node) error {
	if n.Spec.ConfigSource != nil {
		return forbidden(a, fmt.Errorf("node %q is not allowed to create pods with a non-nil configSource", node))
	}
	if bad := forbiddenLabels(modifiedLabels(n.Labels, nil)); len(bad) > 0 {
		return forbidden(a, fmt.Errorf("node %q is not allowed to set the following labels: %s", node, strings.Join(bad, ", ")))
	}
	return nil
}

func admitNodeUpdate(node string, a Attributes, n, old *corev1.Node) error {
	if n.Spec.ConfigSource != nil && !equality.Semantic.DeepEqual(n.Spec.ConfigSource, old.Spec.ConfigSource) {
		return forbidden(a, fmt.Errorf("node %q is not allowed to update configSource to a new non-nil configSource", node))
	}
	if !equality.Semantic.DeepEqual(n.Spec.Taints, old.Spec.Taints) {
		return forbidden(a, fmt.Errorf("node %q is not allowed to modify taints", node))
	}
	if bad := forbiddenLabels(modifiedLabels(n.Labels, old.Labels)); len(bad) > 0 {
		return forbidden(a, fmt.Errorf("is not allowed to modify labels: %s", strings.Join(bad, ", ")))
	}
	return nil
}

// modifiedLabels are the keys added, removed or changed between x and y.
func modifiedLabels(x, y map[string]string) []string {
	var out []string
	for k, v := range x {
		if w, ok := y[k]; !ok || v != w {
			out = append(out, k)
		}
	}
	for k := range y {
		if _, ok := x[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

// forbiddenLabels are, sorted, the keys a node may not set, change or
// remove: node-restriction.kubernetes.io/ ones, and kubernetes.io or k8s.io
// ones that are not kubelet labels.
func forbiddenLabels(keys []string) []string {
	var out []string
	for _, k := range keys {
		ns := labelNamespace(k)
		restricted := ns == corev1.LabelNamespaceNodeRestriction || strings.HasSuffix(ns, "."+corev1.LabelNamespaceNodeRestriction)
		if restricted || (kubernetesNamespace(ns) && !kubeletapis.IsKubeletLabel(k)) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func kubernetesNamespace(ns string) bool {
	for _, d := range []string{"kubernetes.io", "k8s.io"} {
		if ns == d || strings.HasSuffix(ns, "."+d) {
			return true
		}
	}
	return false
}

// labelNamespace is the prefix of a label key, "" when it has none.
func labelNamespace(key string) string {
	ns, _, found := strings.Cut(key, "/")
	if !found {
		return ""
	}
	return ns
}
