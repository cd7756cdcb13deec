package job

import (
	"fmt"
	"slices"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// outcome is what a finished pod counts as.
type outcome int

const (
	countSucceeded outcome = iota
	countFailed
	ignored // a failed pod an Ignore rule matched: not counted
)

// verdict is a failed pod's match against the job's podFailurePolicy: the
// action, and for FailJob the message of the job's failure.
type verdict struct {
	action  batchv1.PodFailurePolicyAction
	message string
}

// matchPolicy returns the first rule of the policy that matches the failed
// pod, as kube: a rule on exit codes matches a terminated container (init
// containers first) with a non-zero exit code In/NotIn its values; a rule on
// pod conditions matches a condition of that type and status. No policy or
// no match counts the failure.
func matchPolicy(policy *batchv1.PodFailurePolicy, pod *corev1.Pod) verdict {
	if policy == nil {
		return verdict{action: batchv1.PodFailurePolicyActionCount}
	}
	for i, rule := range policy.Rules {
		if msg, ok := matchRule(&rule, pod, i); ok {
			return verdict{action: rule.Action, message: msg}
		}
	}
	return verdict{action: batchv1.PodFailurePolicyActionCount}
}

func matchRule(rule *batchv1.PodFailurePolicyRule, pod *corev1.Pod, i int) (string, bool) {
	if req := rule.OnExitCodes; req != nil {
		statuses := append(slices.Clone(pod.Status.InitContainerStatuses), pod.Status.ContainerStatuses...)
		for _, st := range statuses {
			if exitCodeMatches(req, &st) {
				return fmt.Sprintf("Container %s for pod %s/%s failed with exit code %d matching %s rule at index %d",
					st.Name, pod.Namespace, pod.Name, st.State.Terminated.ExitCode, rule.Action, i), true
			}
		}
	}
	for _, pat := range rule.OnPodConditions {
		for _, c := range pod.Status.Conditions {
			if c.Type == pat.Type && c.Status == pat.Status {
				return fmt.Sprintf("Pod %s/%s has condition %s matching %s rule at index %d",
					pod.Namespace, pod.Name, c.Type, rule.Action, i), true
			}
		}
	}
	return "", false
}

func exitCodeMatches(req *batchv1.PodFailurePolicyOnExitCodesRequirement, st *corev1.ContainerStatus) bool {
	term := st.State.Terminated
	if term == nil || term.ExitCode == 0 || (req.ContainerName != nil && *req.ContainerName != st.Name) {
		return false
	}
	in := slices.Contains(req.Values, term.ExitCode)
	if req.Operator == batchv1.PodFailurePolicyOnExitCodesOpNotIn {
		return !in
	}
	return in
}
