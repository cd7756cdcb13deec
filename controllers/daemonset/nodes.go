package daemonset

import (
	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// placement says whether a daemon pod belongs on a node: run (a pod should
// be created there) and keep (a pod already there may stay). They differ
// only for taints: an untolerated NoSchedule taint stops new pods but
// keeps running ones; an untolerated NoExecute taint stops both.
type placement struct {
	run, keep bool
}

// nodePlacement is kube's NodeShouldRunDaemonPod: the node must be the
// template's nodeName when it names one (its pods are bound there), match
// the template's nodeSelector and required node affinity, and its NoSchedule
// and NoExecute taints must be tolerated by the pod's tolerations plus
// those the controller adds.
func nodePlacement(node *corev1.Node, ds *appsv1.DaemonSet) placement {
	spec := &ds.Spec.Template.Spec
	if spec.NodeName != "" && spec.NodeName != node.Name {
		return placement{}
	}
	if !matchesSelector(spec.NodeSelector, node) || !matchesAffinity(spec.Affinity, node) {
		return placement{}
	}
	tols := withDaemonTolerations(spec.Tolerations, spec.HostNetwork)
	p := placement{run: true, keep: true}
	for i := range node.Spec.Taints {
		t := &node.Spec.Taints[i]
		if t.Effect == corev1.TaintEffectPreferNoSchedule || tolerated(tols, t) {
			continue
		}
		p.run = false
		if t.Effect == corev1.TaintEffectNoExecute {
			p.keep = false
		}
	}
	return p
}

func tolerated(tols []corev1.Toleration, taint *corev1.Taint) bool {
	for i := range tols {
		if tols[i].ToleratesTaint(logr.Discard(), taint, false) {
			return true
		}
	}
	return false
}

func matchesSelector(sel map[string]string, node *corev1.Node) bool {
	return labels.SelectorFromSet(sel).Matches(labels.Set(node.Labels))
}

// matchesAffinity: requiredDuringSchedulingIgnoredDuringExecution is an OR
// of terms, each an AND of its expressions and fields; a term with
// neither matches nothing.
func matchesAffinity(aff *corev1.Affinity, node *corev1.Node) bool {
	if aff == nil || aff.NodeAffinity == nil || aff.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return true
	}
	for _, term := range aff.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		if len(term.MatchExpressions)+len(term.MatchFields) > 0 &&
			matchesExpressions(term.MatchExpressions, node) && matchesFields(term.MatchFields, node) {
			return true
		}
	}
	return false
}

var operators = map[corev1.NodeSelectorOperator]selection.Operator{
	corev1.NodeSelectorOpIn: selection.In, corev1.NodeSelectorOpNotIn: selection.NotIn,
	corev1.NodeSelectorOpExists: selection.Exists, corev1.NodeSelectorOpDoesNotExist: selection.DoesNotExist,
	corev1.NodeSelectorOpGt: selection.GreaterThan, corev1.NodeSelectorOpLt: selection.LessThan,
}

func matchesExpressions(reqs []corev1.NodeSelectorRequirement, node *corev1.Node) bool {
	for _, r := range reqs {
		op, ok := operators[r.Operator]
		if !ok {
			return false
		}
		req, err := labels.NewRequirement(r.Key, op, r.Values)
		if err != nil || !req.Matches(labels.Set(node.Labels)) {
			return false
		}
	}
	return true
}

// matchesFields: only metadata.name, with In or NotIn, is valid.
func matchesFields(reqs []corev1.NodeSelectorRequirement, node *corev1.Node) bool {
	for _, r := range reqs {
		in := false
		for _, v := range r.Values {
			in = in || v == node.Name
		}
		ok := r.Key == nodeNameField && len(r.Values) > 0 &&
			((r.Operator == corev1.NodeSelectorOpIn && in) || (r.Operator == corev1.NodeSelectorOpNotIn && !in))
		if !ok {
			return false
		}
	}
	return true
}

// nodeNameField is the one field node affinity may match.
const nodeNameField = "metadata.name"

// withDaemonTolerations adds the tolerations kube's DaemonSet controller
// gives every daemon pod (one the template has with the same key, operator,
// value and effect is replaced, as kube's AddOrUpdateTolerationInPodSpec
// does, so a tolerationSeconds on it is dropped): NoExecute
// for not-ready and unreachable (no tolerationSeconds, so the pods stay),
// NoSchedule for the disk, memory and pid pressures and unschedulable, and
// for hostNetwork pods NoSchedule for network-unavailable.
func withDaemonTolerations(tols []corev1.Toleration, hostNetwork bool) []corev1.Toleration {
	out := append([]corev1.Toleration(nil), tols...)
	add := func(key string, effect corev1.TaintEffect) {
		want := corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: effect}
		for i := range out {
			if out[i].MatchToleration(&want) {
				out[i] = want
				return
			}
		}
		out = append(out, want)
	}
	add(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute)
	add(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute)
	add(corev1.TaintNodeDiskPressure, corev1.TaintEffectNoSchedule)
	add(corev1.TaintNodeMemoryPressure, corev1.TaintEffectNoSchedule)
	add(corev1.TaintNodePIDPressure, corev1.TaintEffectNoSchedule)
	add(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule)
	if hostNetwork {
		add(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule)
	}
	return out
}
