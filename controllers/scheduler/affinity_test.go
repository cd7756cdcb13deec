package scheduler

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestRequiredAffinity(t *testing.T) {
	n := node("node-a", labeled("zone", "a", "gen", "5"))
	field := func(op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorTerm {
		return corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: op, Values: values}}}
	}
	both := corev1.NodeSelectorTerm{
		MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}},
		MatchFields:      []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"node-b"}}},
	}
	tests := []struct {
		name  string
		terms []corev1.NodeSelectorTerm
		want  bool
	}{
		{"In", []corev1.NodeSelectorTerm{expr("zone", corev1.NodeSelectorOpIn, "a", "b")}, true},
		{"In other", []corev1.NodeSelectorTerm{expr("zone", corev1.NodeSelectorOpIn, "b")}, false},
		{"NotIn", []corev1.NodeSelectorTerm{expr("zone", corev1.NodeSelectorOpNotIn, "b")}, true},
		{"NotIn own", []corev1.NodeSelectorTerm{expr("zone", corev1.NodeSelectorOpNotIn, "a")}, false},
		{"NotIn missing label", []corev1.NodeSelectorTerm{expr("rack", corev1.NodeSelectorOpNotIn, "1")}, true},
		{"Exists", []corev1.NodeSelectorTerm{expr("zone", corev1.NodeSelectorOpExists)}, true},
		{"Exists missing", []corev1.NodeSelectorTerm{expr("rack", corev1.NodeSelectorOpExists)}, false},
		{"DoesNotExist", []corev1.NodeSelectorTerm{expr("rack", corev1.NodeSelectorOpDoesNotExist)}, true},
		{"DoesNotExist present", []corev1.NodeSelectorTerm{expr("zone", corev1.NodeSelectorOpDoesNotExist)}, false},
		{"Gt", []corev1.NodeSelectorTerm{expr("gen", corev1.NodeSelectorOpGt, "4")}, true},
		{"Gt equal", []corev1.NodeSelectorTerm{expr("gen", corev1.NodeSelectorOpGt, "5")}, false},
		{"Lt", []corev1.NodeSelectorTerm{expr("gen", corev1.NodeSelectorOpLt, "6")}, true},
		{"Lt not a number", []corev1.NodeSelectorTerm{expr("gen", corev1.NodeSelectorOpLt, "six")}, false},
		{"Gt on non-numeric label", []corev1.NodeSelectorTerm{expr("zone", corev1.NodeSelectorOpGt, "1")}, false},
		{"unknown operator", []corev1.NodeSelectorTerm{expr("zone", "Near", "a")}, false},
		{"terms are ORed", []corev1.NodeSelectorTerm{expr("zone", corev1.NodeSelectorOpIn, "b"), expr("gen", corev1.NodeSelectorOpIn, "5")}, true},
		{"expressions and fields are ANDed", []corev1.NodeSelectorTerm{both}, false},
		{"empty term matches nothing", []corev1.NodeSelectorTerm{{}}, false},
		{"no terms match nothing", nil, false},
		{"field In", []corev1.NodeSelectorTerm{field(corev1.NodeSelectorOpIn, "node-a")}, true},
		{"field NotIn", []corev1.NodeSelectorTerm{field(corev1.NodeSelectorOpNotIn, "node-a")}, false},
		{"field Exists is invalid", []corev1.NodeSelectorTerm{field(corev1.NodeSelectorOpExists)}, false},
	}
	for _, tt := range tests {
		aff := pod("p", "", "", requiring(tt.terms...)).Spec.Affinity
		if got := matchesRequiredAffinity(aff, n); got != tt.want {
			t.Errorf("%s: matches = %v, want %v", tt.name, got, tt.want)
		}
	}
	if !matchesRequiredAffinity(nil, n) || !matchesRequiredAffinity(&corev1.Affinity{}, n) {
		t.Error("no required affinity must match every node")
	}
}
