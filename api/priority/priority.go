// Package priority holds what both sides know about pod priority: the
// built-in PriorityClasses every cluster has, kube's limits on values, and
// a pod's priority as the node reads it. The API server serves and admits
// with it; the agent's graceful shutdown groups pods by it.
package priority

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// kube's values (k8s.io/kubernetes/pkg/apis/scheduling).
const (
	// HighestUserDefinable is the largest value a class not named system-*
	// may have.
	HighestUserDefinable int32 = 1000000000
	// SystemCritical is system-cluster-critical's value, and the lowest
	// priority kube counts as critical.
	SystemCritical int32 = 2 * HighestUserDefinable
	// SystemPrefix starts the names reserved for the built-in classes.
	SystemPrefix = "system-"
	// NodeCritical and ClusterCritical are the built-in classes' names.
	NodeCritical    = "system-node-critical"
	ClusterCritical = "system-cluster-critical"
	// DefaultWhenNoDefaultClass is a pod's priority when it names no class
	// and no class is the global default.
	DefaultWhenNoDefaultClass int32 = 0
)

// SystemClasses are the built-in classes, as kube-apiserver creates them
// at start.
func SystemClasses() []*schedulingv1.PriorityClass {
	policy := corev1.PreemptLowerPriority
	return []*schedulingv1.PriorityClass{
		{ObjectMeta: metav1.ObjectMeta{Name: NodeCritical}, Value: SystemCritical + 1000, PreemptionPolicy: &policy,
			Description: "Used for system critical pods that must not be moved from their current node."},
		{ObjectMeta: metav1.ObjectMeta{Name: ClusterCritical}, Value: SystemCritical, PreemptionPolicy: &policy,
			Description: "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."},
	}
}

// IsKnownSystemClass says whether a class named system-* is one of the
// built-in ones, value and globalDefault included; the error says how it
// differs, in kube's words.
func IsKnownSystemClass(name string, value int32, globalDefault bool) error {
	for _, sc := range SystemClasses() {
		if sc.Name != name {
			continue
		}
		if sc.Value != value {
			return fmt.Errorf("value of %s PriorityClass must be %d", sc.Name, sc.Value)
		}
		if sc.GlobalDefault != globalDefault {
			return fmt.Errorf("globalDefault of %s PriorityClass must be %t", sc.Name, sc.GlobalDefault)
		}
		return nil
	}
	return fmt.Errorf("%s is not a known system priority class", name)
}

// IsSystemName reports whether name is in the reserved system- space.
func IsSystemName(name string) bool { return strings.HasPrefix(name, SystemPrefix) }

// BuiltinValue is the value of a built-in class, and whether name is one.
func BuiltinValue(name string) (int32, bool) {
	for _, sc := range SystemClasses() {
		if sc.Name == name {
			return sc.Value, true
		}
	}
	return 0, false
}

// Of is a pod's priority as the node reads it: spec.priority, which the
// API server's admission set; 0 when unset (kubelet's reading).
func Of(pod *corev1.Pod) int32 {
	if pod.Spec.Priority != nil {
		return *pod.Spec.Priority
	}
	return DefaultWhenNoDefaultClass
}

// IsCritical reports whether a priority is at least system-cluster-critical.
func IsCritical(p int32) bool { return p >= SystemCritical }
