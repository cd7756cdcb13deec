package scheduler

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The reasons Filter gives, worded as kube-scheduler words them so that
// "kubectl describe pod" reads the same.
const (
	reasonNotReady      = "node(s) were not ready"
	reasonUnschedulable = "node(s) were unschedulable"
	reasonAffinity      = "node(s) didn't match Pod's node affinity/selector"
	reasonPorts         = "node(s) didn't have free ports for the requested pod ports"
	reasonTooManyPods   = "Too many pods"
	reasonTaintFormat   = "node(s) had untolerated taint {%s: %s}"
	reasonInsufficient  = "Insufficient "
)

// check is one filter: the reasons the node cannot take the pod, or none.
// podsOnNode holds only the non-terminal pods on the node.
type check func(pod *corev1.Pod, node *corev1.Node, podsOnNode []*corev1.Pod) []string

// checks runs in kube's order; the first that fails decides the reasons.
func checks() []check {
	return []check{checkReady, checkUnschedulable, checkTaints, checkAffinity, checkPorts, checkResources}
}

// Filter says whether node can take pod, given the pods already on it
// (terminal pods among them are ignored). When it cannot, the string says
// why, in kube-scheduler's words; several reasons are joined by ", ".
func Filter(pod *corev1.Pod, node *corev1.Node, podsOnNode []*corev1.Pod) (bool, string) {
	reasons := filterReasons(pod, node, activePods(podsOnNode))
	return len(reasons) == 0, strings.Join(reasons, ", ")
}

// filterReasons runs the checks, then extra; active holds no terminal pods.
func filterReasons(pod *corev1.Pod, node *corev1.Node, active []*corev1.Pod, extra ...check) []string {
	for _, c := range append(checks(), extra...) {
		if reasons := c(pod, node, active); len(reasons) > 0 {
			return reasons
		}
	}
	return nil
}

// activePods drops the pods that have finished: they hold no resources.
func activePods(pods []*corev1.Pod) []*corev1.Pod {
	out := make([]*corev1.Pod, 0, len(pods))
	for _, p := range pods {
		if !terminal(p) {
			out = append(out, p)
		}
	}
	return out
}

func terminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

func checkReady(_ *corev1.Pod, node *corev1.Node, _ []*corev1.Pod) []string {
	if nodeReady(node) {
		return nil
	}
	return []string{reasonNotReady}
}

func nodeReady(node *corev1.Node) bool {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// checkUnschedulable: a cordoned node takes only pods that tolerate the
// node.kubernetes.io/unschedulable:NoSchedule taint.
func checkUnschedulable(pod *corev1.Pod, node *corev1.Node, _ []*corev1.Pod) []string {
	cordon := corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}
	if !node.Spec.Unschedulable || tolerated(pod.Spec.Tolerations, cordon) {
		return nil
	}
	return []string{reasonUnschedulable}
}

// checkTaints: every NoSchedule and NoExecute taint must be tolerated
// (PreferNoSchedule only matters for scoring).
func checkTaints(pod *corev1.Pod, node *corev1.Node, _ []*corev1.Pod) []string {
	for _, t := range node.Spec.Taints {
		if t.Effect == corev1.TaintEffectPreferNoSchedule || tolerated(pod.Spec.Tolerations, t) {
			continue
		}
		return []string{fmt.Sprintf(reasonTaintFormat, t.Key, t.Value)}
	}
	return nil
}

func tolerated(tolerations []corev1.Toleration, taint corev1.Taint) bool {
	for _, t := range tolerations {
		if tolerates(t, taint) {
			return true
		}
	}
	return false
}

// tolerates follows corev1.Toleration.ToleratesTaint: an empty effect
// matches every effect, an empty key (with Exists) every key; Exists matches
// any value, Equal (or no operator) the same value. The alpha numeric
// operators Lt and Gt are off, as in kube by default, so they match nothing.
func tolerates(t corev1.Toleration, taint corev1.Taint) bool {
	if t.Effect != "" && t.Effect != taint.Effect {
		return false
	}
	if t.Key != "" && t.Key != taint.Key {
		return false
	}
	switch t.Operator {
	case "", corev1.TolerationOpEqual:
		return t.Value == taint.Value
	case corev1.TolerationOpExists:
		return true
	}
	return false
}

// hostPort is one port a pod takes on its node's addresses.
type hostPort struct {
	ip       string
	protocol corev1.Protocol
	port     int32
}

// conflicts: same protocol and port, and the same address or a wildcard.
func (a hostPort) conflicts(b hostPort) bool {
	if a.protocol != b.protocol || a.port != b.port {
		return false
	}
	return a.ip == b.ip || a.ip == "0.0.0.0" || b.ip == "0.0.0.0"
}

func hostPorts(pod *corev1.Pod) []hostPort {
	var out []hostPort
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range cs {
			for _, p := range c.Ports {
				if p.HostPort > 0 {
					out = append(out, newHostPort(p))
				}
			}
		}
	}
	return out
}

func newHostPort(p corev1.ContainerPort) hostPort {
	hp := hostPort{ip: p.HostIP, protocol: p.Protocol, port: p.HostPort}
	if hp.ip == "" || hp.ip == "::" {
		hp.ip = "0.0.0.0"
	}
	if hp.protocol == "" {
		hp.protocol = corev1.ProtocolTCP
	}
	return hp
}

func checkPorts(pod *corev1.Pod, _ *corev1.Node, podsOnNode []*corev1.Pod) []string {
	want := hostPorts(pod)
	if len(want) == 0 {
		return nil
	}
	for _, other := range podsOnNode {
		for _, used := range hostPorts(other) {
			for _, w := range want {
				if w.conflicts(used) {
					return []string{reasonPorts}
				}
			}
		}
	}
	return nil
}
