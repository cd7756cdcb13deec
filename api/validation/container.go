package validation

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const (
	terminationMessagePolicyMsg = "must be 'File' or 'FallbackToLogsOnError'"
	initProbeMsg                = "may not be set for init containers without restartPolicy=Always"
	ephemeralMsg                = "cannot be set for an Ephemeral Container"
)

func portProtocols() []corev1.Protocol {
	return []corev1.Protocol{corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP}
}

// containers validates app, init and ephemeral containers. Names are unique
// across all three; a clash is reported on the init or ephemeral side, as
// kube does.
func containers(s *corev1.PodSpec, vols map[string]corev1.VolumeSource, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	appPath := fld.Child("containers")
	if len(s.Containers) == 0 {
		errs = append(errs, field.Required(appPath, ""))
	}
	for i := range s.Containers {
		errs = append(errs, uniqueName(s.Containers[i].Name, names, appPath.Index(i).Child("name"))...)
		errs = append(errs, appContainer(&s.Containers[i], vols, appPath.Index(i))...)
	}
	initPath := fld.Child("initContainers")
	for i := range s.InitContainers {
		errs = append(errs, uniqueName(s.InitContainers[i].Name, names, initPath.Index(i).Child("name"))...)
		errs = append(errs, initContainer(&s.InitContainers[i], vols, initPath.Index(i))...)
	}
	ephPath := fld.Child("ephemeralContainers")
	for i := range s.EphemeralContainers {
		c := (*corev1.Container)(&s.EphemeralContainers[i].EphemeralContainerCommon)
		errs = append(errs, uniqueName(c.Name, names, ephPath.Index(i).Child("name"))...)
		errs = append(errs, ephemeralContainer(c, vols, ephPath.Index(i))...)
	}
	return errs
}

func uniqueName(name string, seen sets.Set[string], fld *field.Path) field.ErrorList {
	if name == "" {
		return nil // reported as Required by containerCommon
	}
	if seen.Has(name) {
		return field.ErrorList{field.Duplicate(fld, name)}
	}
	seen.Insert(name)
	return nil
}

func appContainer(c *corev1.Container, vols map[string]corev1.VolumeSource, fld *field.Path) field.ErrorList {
	errs := containerCommon(c, vols, fld)
	errs = append(errs, containerProbes(c, fld)...)
	if c.RestartPolicy != nil {
		errs = append(errs, field.Forbidden(fld.Child("restartPolicy"), "may not be set for non-init containers"))
	}
	return errs
}

// initContainer: a sidecar (restartPolicy Always) may have probes and hooks,
// a plain init container may not.
func initContainer(c *corev1.Container, vols map[string]corev1.VolumeSource, fld *field.Path) field.ErrorList {
	errs := containerCommon(c, vols, fld)
	if c.RestartPolicy != nil && *c.RestartPolicy != corev1.ContainerRestartPolicyAlways {
		errs = append(errs, field.NotSupported(fld.Child("restartPolicy"), *c.RestartPolicy,
			[]corev1.ContainerRestartPolicy{corev1.ContainerRestartPolicyAlways}))
	}
	if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
		return append(errs, containerProbes(c, fld)...)
	}
	for _, f := range hooksAndProbes(c) {
		errs = append(errs, field.Forbidden(fld.Child(f), initProbeMsg))
	}
	return errs
}

// ephemeralContainer: a debugging container gets no ports, probes, hooks or
// resources.
func ephemeralContainer(c *corev1.Container, vols map[string]corev1.VolumeSource, fld *field.Path) field.ErrorList {
	errs := containerCommon(c, vols, fld)
	for _, f := range hooksAndProbes(c) {
		errs = append(errs, field.Forbidden(fld.Child(f), ephemeralMsg))
	}
	if len(c.Ports) > 0 {
		errs = append(errs, field.Forbidden(fld.Child("ports"), ephemeralMsg))
	}
	if len(c.Resources.Limits) > 0 || len(c.Resources.Requests) > 0 {
		errs = append(errs, field.Forbidden(fld.Child("resources"), ephemeralMsg))
	}
	return errs
}

// containerCommon holds the checks every kind of container gets.
func containerCommon(c *corev1.Container, vols map[string]corev1.VolumeSource, fld *field.Path) field.ErrorList {
	errs := requiredDNSLabel(c.Name, fld.Child("name"))
	errs = append(errs, image(c.Image, fld.Child("image"))...)
	errs = append(errs, enum(c.ImagePullPolicy, fld.Child("imagePullPolicy"),
		corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever)...)
	errs = append(errs, terminationMessagePolicy(c.TerminationMessagePolicy, fld.Child("terminationMessagePolicy"))...)
	errs = append(errs, containerPorts(c.Ports, fld.Child("ports"))...)
	errs = append(errs, env(c.Env, fld.Child("env"))...)
	errs = append(errs, envFrom(c.EnvFrom, fld.Child("envFrom"))...)
	errs = append(errs, volumeMounts(c.VolumeMounts, vols, privileged(c), fld.Child("volumeMounts"))...)
	errs = append(errs, volumeDevices(c.VolumeDevices, vols, fld.Child("volumeDevices"))...)
	errs = append(errs, resourceRequirements(&c.Resources, fld.Child("resources"))...)
	return append(errs, securityContext(c.SecurityContext, fld.Child("securityContext"))...)
}

func image(img string, fld *field.Path) field.ErrorList {
	if img == "" {
		return field.ErrorList{field.Required(fld, "")}
	}
	if strings.TrimSpace(img) != img {
		return field.ErrorList{field.Invalid(fld, img, "must not have leading or trailing whitespace")}
	}
	return nil
}

func terminationMessagePolicy(p corev1.TerminationMessagePolicy, fld *field.Path) field.ErrorList {
	switch p {
	case corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError:
		return nil
	case "":
		return field.ErrorList{field.Required(fld, terminationMessagePolicyMsg)}
	}
	return field.ErrorList{field.Invalid(fld, p, terminationMessagePolicyMsg)}
}

// containerPorts checks each port; names (IANA_SVC_NAME) are unique within
// the container.
func containerPorts(ports []corev1.ContainerPort, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	for i, p := range ports {
		idx := fld.Index(i)
		errs = append(errs, containerPortName(p.Name, names, idx.Child("name"))...)
		if p.ContainerPort == 0 {
			errs = append(errs, field.Required(idx.Child("containerPort"), ""))
		} else {
			errs = append(errs, portNum(p.ContainerPort, idx.Child("containerPort"))...)
		}
		if p.HostPort != 0 {
			errs = append(errs, portNum(p.HostPort, idx.Child("hostPort"))...)
		}
		if p.HostIP != "" {
			errs = append(errs, validation.IsValidIPForLegacyField(idx.Child("hostIP"), p.HostIP, true, nil)...)
		}
		errs = append(errs, enum(p.Protocol, idx.Child("protocol"), portProtocols()...)...)
	}
	return errs
}

func containerPortName(name string, seen sets.Set[string], fld *field.Path) field.ErrorList {
	if name == "" {
		return nil
	}
	if msgs := validation.IsValidPortName(name); len(msgs) > 0 {
		return invalids(fld, name, msgs)
	}
	if seen.Has(name) {
		return field.ErrorList{field.Duplicate(fld, name)}
	}
	seen.Insert(name)
	return nil
}

// hooksAndProbes names the lifecycle and probe fields that c sets.
func hooksAndProbes(c *corev1.Container) []string {
	var set []string
	if c.Lifecycle != nil {
		set = append(set, "lifecycle")
	}
	if c.LivenessProbe != nil {
		set = append(set, "livenessProbe")
	}
	if c.ReadinessProbe != nil {
		set = append(set, "readinessProbe")
	}
	if c.StartupProbe != nil {
		set = append(set, "startupProbe")
	}
	return set
}

func privileged(c *corev1.Container) bool {
	sc := c.SecurityContext
	return sc != nil && sc.Privileged != nil && *sc.Privileged
}

// hostPortKey identifies a host port for the uniqueness check.
func hostPortKey(p corev1.ContainerPort) string {
	return fmt.Sprintf("%s/%s/%d", p.Protocol, p.HostIP, p.HostPort)
}

// uniqueHostPorts reports a host port (protocol, IP, port) used twice
// anywhere in the pod.
func uniqueHostPorts(s *corev1.PodSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	check := func(cs []corev1.Container, fld *field.Path) {
		for i, c := range cs {
			for j, p := range c.Ports {
				if p.HostPort == 0 {
					continue
				}
				key := hostPortKey(p)
				if seen.Has(key) {
					errs = append(errs, field.Duplicate(fld.Index(i).Child("ports").Index(j).Child("hostPort"), key))
				}
				seen.Insert(key)
			}
		}
	}
	check(s.Containers, fld.Child("containers"))
	check(s.InitContainers, fld.Child("initContainers"))
	return errs
}
