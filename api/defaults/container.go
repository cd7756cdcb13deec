package defaults

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Probe defaults, as in SetDefaults_Probe.
const (
	defaultProbeTimeoutSeconds    int32 = 1
	defaultProbePeriodSeconds     int32 = 10
	defaultProbeSuccessThreshold  int32 = 1
	defaultProbeFailureThreshold  int32 = 3
	defaultFieldRefAPIVersion           = "v1"
	defaultTerminationMessagePath       = "/dev/termination-log"
)

// containers defaults every init, app and ephemeral container of s.
func containers(s *corev1.PodSpec) {
	for i := range s.InitContainers {
		container(&s.InitContainers[i])
	}
	for i := range s.Containers {
		container(&s.Containers[i])
	}
	for i := range s.EphemeralContainers {
		// EphemeralContainerCommon has exactly Container's fields.
		container((*corev1.Container)(&s.EphemeralContainers[i].EphemeralContainerCommon))
	}
}

func container(c *corev1.Container) {
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = pullPolicy(c.Image)
	}
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = defaultTerminationMessagePath
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = corev1.ProtocolTCP
		}
	}
	for i := range c.Env {
		envVar(&c.Env[i])
	}
	probe(c.LivenessProbe)
	probe(c.ReadinessProbe)
	probe(c.StartupProbe)
	lifecycle(c.Lifecycle)
}

// pullPolicy is Always for an image with the tag "latest", or with neither
// tag nor digest (which means "latest"), and IfNotPresent otherwise.
func pullPolicy(image string) corev1.PullPolicy {
	tag, hasDigest := imageTag(image)
	if tag == "latest" || (tag == "" && !hasDigest) {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}

// imageTag splits the tag and the presence of a digest out of an image
// reference. A colon before the last slash belongs to a registry host:port.
func imageTag(image string) (tag string, hasDigest bool) {
	name, _, hasDigest := strings.Cut(image, "@")
	slash := strings.LastIndex(name, "/")
	if colon := strings.LastIndex(name, ":"); colon > slash {
		return name[colon+1:], hasDigest
	}
	return "", hasDigest
}

func envVar(e *corev1.EnvVar) {
	if e.ValueFrom != nil {
		fieldRef(e.ValueFrom.FieldRef)
	}
}

func fieldRef(f *corev1.ObjectFieldSelector) {
	if f != nil && f.APIVersion == "" {
		f.APIVersion = defaultFieldRefAPIVersion
	}
}

func probe(p *corev1.Probe) {
	if p == nil {
		return
	}
	setIfZero(&p.TimeoutSeconds, defaultProbeTimeoutSeconds)
	setIfZero(&p.PeriodSeconds, defaultProbePeriodSeconds)
	setIfZero(&p.SuccessThreshold, defaultProbeSuccessThreshold)
	setIfZero(&p.FailureThreshold, defaultProbeFailureThreshold)
	httpGet(p.HTTPGet)
}

func lifecycle(l *corev1.Lifecycle) {
	if l == nil {
		return
	}
	for _, h := range []*corev1.LifecycleHandler{l.PostStart, l.PreStop} {
		if h != nil {
			httpGet(h.HTTPGet)
		}
	}
}

func httpGet(h *corev1.HTTPGetAction) {
	if h == nil {
		return
	}
	if h.Path == "" {
		h.Path = "/"
	}
	if h.Scheme == "" {
		h.Scheme = corev1.URISchemeHTTP
	}
}

func setIfZero(v *int32, def int32) {
	if *v == 0 {
		*v = def
	}
}
