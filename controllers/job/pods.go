package job

import (
	"fmt"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The labels, annotation, finalizer and env var kube's job controller uses.
const (
	LabelJobName        = "batch.kubernetes.io/job-name"
	LabelControllerUID  = "batch.kubernetes.io/controller-uid"
	legacyJobName       = "job-name"
	legacyControllerUID = "controller-uid"
	CompletionIndexKey  = "batch.kubernetes.io/job-completion-index"
	TrackingFinalizer   = "batch.kubernetes.io/job-tracking"
	CompletionIndexEnv  = "JOB_COMPLETION_INDEX"
	noIndex             = -1
)

// newPod is the pod the job runs (for index, or noIndex): the template's
// labels and annotations plus the job's labels, the tracking finalizer, the
// job as its controller; an Indexed job's pod also carries its index (label,
// annotation, env JOB_COMPLETION_INDEX from the annotation, hostname
// <job>-<index>).
func newPod(job *batchv1.Job, index int) *corev1.Pod {
	tmpl := job.Spec.Template.DeepCopy()
	t := true
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: job.Namespace, GenerateName: job.Name + "-",
			Labels: tmpl.Labels, Annotations: tmpl.Annotations,
			Finalizers: []string{TrackingFinalizer},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: job.Name, UID: job.UID,
				Controller: &t, BlockOwnerDeletion: &t}},
		},
		Spec: tmpl.Spec,
	}
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	for k, v := range jobLabels(job) {
		if _, set := pod.Labels[k]; !set {
			pod.Labels[k] = v
		}
	}
	if index != noIndex {
		addIndex(pod, job.Name, index)
	}
	return pod
}

// jobLabels are the labels kube's server puts in a job's template when it
// generates the selector; added here too when the template lacks them.
func jobLabels(job *batchv1.Job) map[string]string {
	uid := string(job.UID)
	return map[string]string{LabelJobName: job.Name, LabelControllerUID: uid, legacyJobName: job.Name, legacyControllerUID: uid}
}

func addIndex(pod *corev1.Pod, jobName string, index int) {
	s := strconv.Itoa(index)
	pod.GenerateName = fmt.Sprintf("%s-%d-", jobName, index)
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[CompletionIndexKey] = s
	pod.Labels[CompletionIndexKey] = s
	if pod.Spec.Hostname == "" {
		pod.Spec.Hostname = fmt.Sprintf("%s-%d", jobName, index)
	}
	env := corev1.EnvVar{Name: CompletionIndexEnv, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
		APIVersion: "v1", FieldPath: fmt.Sprintf("metadata.annotations['%s']", CompletionIndexKey)}}}
	for i := range pod.Spec.InitContainers {
		pod.Spec.InitContainers[i].Env = withEnv(pod.Spec.InitContainers[i].Env, env)
	}
	for i := range pod.Spec.Containers {
		pod.Spec.Containers[i].Env = withEnv(pod.Spec.Containers[i].Env, env)
	}
}

func withEnv(env []corev1.EnvVar, v corev1.EnvVar) []corev1.EnvVar {
	for _, e := range env {
		if e.Name == v.Name {
			return env
		}
	}
	return append(env, v)
}

// podIndex is the pod's completion index, or noIndex when it has none or
// one outside [0, completions).
func podIndex(pod *corev1.Pod, completions int) int {
	s, ok := pod.Annotations[CompletionIndexKey]
	if !ok {
		return noIndex
	}
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 || i >= completions {
		return noIndex
	}
	return i
}

func hasFinalizer(pod *corev1.Pod) bool {
	for _, f := range pod.Finalizers {
		if f == TrackingFinalizer {
			return true
		}
	}
	return false
}

func terminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

// active pods run or wait to: not terminal, not being deleted.
func active(pod *corev1.Pod) bool { return !terminal(pod) && pod.DeletionTimestamp == nil }

// terminating pods are being deleted and not terminal yet.
func terminating(pod *corev1.Pod) bool { return !terminal(pod) && pod.DeletionTimestamp != nil }

func ready(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }
