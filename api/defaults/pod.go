package defaults

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/api/priority"
)

const (
	// DefaultSchedulerName is the scheduler a pod gets when it names none.
	DefaultSchedulerName = "default-scheduler"
	// DefaultServiceAccountName is the service account a pod runs as when it
	// names none (kube's ServiceAccount admission plugin).
	DefaultServiceAccountName = "default"
	// DefaultTerminationGracePeriodSeconds is spec.terminationGracePeriodSeconds
	// when unset.
	DefaultTerminationGracePeriodSeconds int64 = 30
	// DefaultTolerationSeconds is how long a pod tolerates a not-ready or
	// unreachable node (kube's DefaultTolerationSeconds admission plugin).
	DefaultTolerationSeconds int64 = 300
)

// MirrorPodAnnotation marks a mirror pod, a static pod's face in the API.
const MirrorPodAnnotation = "kubernetes.io/config.mirror"

// Pod applies the v1 defaults to p, then fills status.phase (Pending) and
// status.qosClass when they are empty. What kube's default admission
// plugins add to a new pod is PodAdmitted's.
func Pod(p *corev1.Pod) {
	podSpec(&p.Spec)
	requestsFromLimits(&p.Spec)
	serviceAccount(&p.Spec, false)
	podStatus(p)
}

// PodAdmitted applies what kube's default admission plugins add to a new
// pod after its defaults: the "default" service account when it names none
// (ServiceAccount) and the not-ready and unreachable tolerations
// (DefaultTolerationSeconds). A mirror pod gets no service account: kube's
// ServiceAccount admission leaves mirror pods alone (and refuses one that
// names an account). The priority is not set here: the API server's
// Priority admission resolves it from the PriorityClasses it stores. The
// API server runs it after recording the writer's fields, so the writer
// does not own them, as in kube.
func PodAdmitted(p *corev1.Pod) {
	_, mirror := p.Annotations[MirrorPodAnnotation]
	serviceAccount(&p.Spec, !mirror)
	p.Spec.Tolerations = nodeFailureTolerations(p.Spec.Tolerations)
	podStatus(p)
}

// StaticPod is Pod for a static pod read from a manifest: no service account
// either, as a kubelet runs one without admission and its mirror pod may
// name none. A static pod that names a built-in PriorityClass gets its
// value, which is all a node knows without the API (any other class is
// left for its mirror pod's admission).
func StaticPod(p *corev1.Pod) {
	pod(p, false)
	builtinPriority(&p.Spec)
}

func pod(p *corev1.Pod, defaultServiceAccount bool) {
	podSpec(&p.Spec)
	requestsFromLimits(&p.Spec)
	serviceAccount(&p.Spec, defaultServiceAccount)
	p.Spec.Tolerations = nodeFailureTolerations(p.Spec.Tolerations)
	podStatus(p)
}

// podStatus fills status.phase (Pending) and status.qosClass when empty.
func podStatus(p *corev1.Pod) {
	if p.Status.Phase == "" {
		p.Status.Phase = corev1.PodPending
	}
	if p.Status.QOSClass == "" {
		p.Status.QOSClass = PodQOSClass(p)
	}
}

// podSpec applies SetDefaults_PodSpec and SetDefaults_Pod.
func podSpec(s *corev1.PodSpec) {
	if s.DNSPolicy == "" {
		s.DNSPolicy = corev1.DNSClusterFirst
	}
	if s.RestartPolicy == "" {
		s.RestartPolicy = corev1.RestartPolicyAlways
	}
	if s.SecurityContext == nil {
		s.SecurityContext = &corev1.PodSecurityContext{}
	}
	if s.TerminationGracePeriodSeconds == nil {
		s.TerminationGracePeriodSeconds = ptrTo(DefaultTerminationGracePeriodSeconds)
	}
	if s.SchedulerName == "" {
		s.SchedulerName = DefaultSchedulerName
	}
	if s.EnableServiceLinks == nil {
		s.EnableServiceLinks = ptrTo(corev1.DefaultEnableServiceLinks)
	}
	if s.HostNetwork {
		hostNetworkPorts(s.Containers)
		hostNetworkPorts(s.InitContainers)
	}
	containers(s)
	volumes(s.Volumes)
}

// hostNetworkPorts sets each unset hostPort to its containerPort: with the
// host's network the two are the same port.
func hostNetworkPorts(cs []corev1.Container) {
	for i := range cs {
		for j := range cs[i].Ports {
			if cs[i].Ports[j].HostPort == 0 {
				cs[i].Ports[j].HostPort = cs[i].Ports[j].ContainerPort
			}
		}
	}
}

// requestsFromLimits copies each limit into the matching request when the
// request is unset, for every container and for pod-level resources.
func requestsFromLimits(s *corev1.PodSpec) {
	for i := range s.InitContainers {
		resourceRequests(&s.InitContainers[i].Resources)
	}
	for i := range s.Containers {
		resourceRequests(&s.Containers[i].Resources)
	}
	if s.Resources != nil {
		resourceRequests(s.Resources)
	}
}

func resourceRequests(r *corev1.ResourceRequirements) {
	if len(r.Limits) == 0 {
		return
	}
	if r.Requests == nil {
		r.Requests = corev1.ResourceList{}
	}
	for name, limit := range r.Limits {
		if _, ok := r.Requests[name]; !ok {
			r.Requests[name] = limit.DeepCopy()
		}
	}
}

// serviceAccount keeps the deprecated serviceAccount field in step and,
// when asked, names the "default" service account when the pod names none.
func serviceAccount(s *corev1.PodSpec, defaultName bool) {
	if s.ServiceAccountName == "" {
		s.ServiceAccountName = s.DeprecatedServiceAccount
	}
	if s.ServiceAccountName == "" && defaultName {
		s.ServiceAccountName = DefaultServiceAccountName
	}
	s.DeprecatedServiceAccount = s.ServiceAccountName
}

// builtinPriority sets the priority and preemption policy of a pod that
// names a built-in class and has none.
func builtinPriority(s *corev1.PodSpec) {
	v, ok := priority.BuiltinValue(s.PriorityClassName)
	if !ok {
		return
	}
	if s.Priority == nil {
		s.Priority = ptrTo(v)
	}
	if s.PreemptionPolicy == nil {
		s.PreemptionPolicy = ptrTo(corev1.PreemptLowerPriority)
	}
}

// nodeFailureTolerations appends the not-ready and unreachable NoExecute
// tolerations (300s) unless ts already tolerates those taints.
func nodeFailureTolerations(ts []corev1.Toleration) []corev1.Toleration {
	for _, key := range []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable} {
		if tolerates(ts, key) {
			continue
		}
		ts = append(ts, corev1.Toleration{
			Key:               key,
			Operator:          corev1.TolerationOpExists,
			Effect:            corev1.TaintEffectNoExecute,
			TolerationSeconds: ptrTo(DefaultTolerationSeconds),
		})
	}
	return ts
}

// tolerates reports whether some toleration in ts covers the NoExecute taint
// key: an empty key or effect acts as a wildcard.
func tolerates(ts []corev1.Toleration, key string) bool {
	for _, t := range ts {
		keyMatches := t.Key == key || t.Key == ""
		effectMatches := t.Effect == corev1.TaintEffectNoExecute || t.Effect == ""
		if keyMatches && effectMatches {
			return true
		}
	}
	return false
}

func ptrTo[T any](v T) *T { return &v }
