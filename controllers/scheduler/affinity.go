package scheduler

import (
	"errors"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// checkAffinity: the node must carry every label of spec.nodeSelector and
// match the required node affinity, if any.
func checkAffinity(pod *corev1.Pod, node *corev1.Node, _ []*corev1.Pod) []string {
	if matchesNodeSelector(pod.Spec.NodeSelector, node) && matchesRequiredAffinity(pod.Spec.Affinity, node) {
		return nil
	}
	return []string{reasonAffinity}
}

func matchesNodeSelector(sel map[string]string, node *corev1.Node) bool {
	for k, v := range sel {
		if got, ok := node.Labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// matchesRequiredAffinity: requiredDuringSchedulingIgnoredDuringExecution
// is an OR of terms, each an AND of its expressions and fields.
func matchesRequiredAffinity(aff *corev1.Affinity, node *corev1.Node) bool {
	if aff == nil || aff.NodeAffinity == nil || aff.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return true
	}
	for _, term := range aff.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		if matchesTerm(term, node) {
			return true
		}
	}
	return false
}

// matchesTerm: as in kube, a term with neither expressions nor fields
// matches nothing, and an invalid requirement fails its term.
func matchesTerm(term corev1.NodeSelectorTerm, node *corev1.Node) bool {
	if len(term.MatchExpressions) == 0 && len(term.MatchFields) == 0 {
		return false
	}
	return matchesAll(term.MatchExpressions, labels.Set(node.Labels)) && matchesFields(term.MatchFields, node.Name)
}

func matchesAll(reqs []corev1.NodeSelectorRequirement, set labels.Set) bool {
	for _, r := range reqs {
		req, err := requirement(r)
		if err != nil || !req.Matches(set) {
			return false
		}
	}
	return true
}

// matchesFields: the API allows only metadata.name, with In or NotIn (node
// names are not label values, so they are compared here, not by labels).
func matchesFields(reqs []corev1.NodeSelectorRequirement, nodeName string) bool {
	for _, r := range reqs {
		in := slices.Contains(r.Values, nodeName)
		ok := r.Key == "metadata.name" && len(r.Values) > 0 &&
			((r.Operator == corev1.NodeSelectorOpIn && in) || (r.Operator == corev1.NodeSelectorOpNotIn && !in))
		if !ok {
			return false
		}
	}
	return true
}

var errUnknownOperator = errors.New("unknown node selector operator")

func requirement(r corev1.NodeSelectorRequirement) (*labels.Requirement, error) {
	op := map[corev1.NodeSelectorOperator]selection.Operator{
		corev1.NodeSelectorOpIn:           selection.In,
		corev1.NodeSelectorOpNotIn:        selection.NotIn,
		corev1.NodeSelectorOpExists:       selection.Exists,
		corev1.NodeSelectorOpDoesNotExist: selection.DoesNotExist,
		corev1.NodeSelectorOpGt:           selection.GreaterThan,
		corev1.NodeSelectorOpLt:           selection.LessThan,
	}[r.Operator]
	if op == "" {
		return nil, errUnknownOperator
	}
	return labels.NewRequirement(r.Key, op, r.Values)
}
