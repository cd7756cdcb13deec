package validation

import (
	"math"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Pod validates a pod on create.
func Pod(p *corev1.Pod) field.ErrorList {
	errs := ObjectMeta(&p.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain)
	errs = append(errs, podSpec(&p.Spec, field.NewPath("spec"))...)
	return append(errs, podCreateOnly(&p.Spec, field.NewPath("spec"))...)
}

// podCreateOnly holds the rules kube applies when a pod is created but not
// when it is updated.
func podCreateOnly(s *corev1.PodSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(s.EphemeralContainers) > 0 {
		errs = append(errs, field.Forbidden(fld.Child("ephemeralContainers"), "cannot be set on create"))
	}
	if len(s.SchedulingGates) > 0 && s.NodeName != "" {
		errs = append(errs, field.Forbidden(fld.Child("nodeName"), "cannot be set until all schedulingGates have been cleared"))
	}
	return errs
}

// podSpec validates everything in a pod spec, whether created or updated.
func podSpec(s *corev1.PodSpec, fld *field.Path) field.ErrorList {
	vols, errs := volumes(s.Volumes, fld.Child("volumes"))
	errs = append(errs, containers(s, vols, fld)...)
	errs = append(errs, enum(s.RestartPolicy, fld.Child("restartPolicy"),
		corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever)...)
	errs = append(errs, enum(s.DNSPolicy, fld.Child("dnsPolicy"),
		corev1.DNSClusterFirstWithHostNet, corev1.DNSClusterFirst, corev1.DNSDefault, corev1.DNSNone)...)
	errs = append(errs, dnsConfig(s.DNSConfig, s.DNSPolicy, fld.Child("dnsConfig"))...)
	errs = append(errs, metav1validation.ValidateLabels(s.NodeSelector, fld.Child("nodeSelector"))...)
	errs = append(errs, podSecurityContext(s.SecurityContext, fld.Child("securityContext"))...)
	errs = append(errs, hostNetworkPorts(s, fld)...)
	errs = append(errs, uniqueHostPorts(s, fld)...)
	errs = append(errs, tolerations(s.Tolerations, fld.Child("tolerations"))...)
	errs = append(errs, podNames(s, fld)...)
	errs = append(errs, podNumbers(s, fld)...)
	errs = append(errs, hostAliases(s.HostAliases, fld.Child("hostAliases"))...)
	errs = append(errs, readinessGates(s.ReadinessGates, fld.Child("readinessGates"))...)
	errs = append(errs, schedulingGates(s.SchedulingGates, fld.Child("schedulingGates"))...)
	errs = append(errs, topologySpreadConstraints(s.TopologySpreadConstraints, fld.Child("topologySpreadConstraints"))...)
	errs = append(errs, podOS(s.OS, fld.Child("os"))...)
	if s.Resources != nil {
		errs = append(errs, resourceRequirements(s.Resources, fld.Child("resources"))...)
	}
	if s.PreemptionPolicy != nil {
		errs = append(errs, enum(*s.PreemptionPolicy, fld.Child("preemptionPolicy"),
			corev1.PreemptLowerPriority, corev1.PreemptNever)...)
	}
	return errs
}

// podNames checks the spec fields that name other objects or DNS names.
func podNames(s *corev1.PodSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	subdomains := []struct {
		value string
		name  string
	}{
		{s.ServiceAccountName, "serviceAccountName"},
		{s.NodeName, "nodeName"},
		{s.PriorityClassName, "priorityClassName"},
	}
	for _, f := range subdomains {
		if f.value != "" {
			errs = append(errs, dnsSubdomain(f.value, fld.Child(f.name))...)
		}
	}
	if s.RuntimeClassName != nil {
		errs = append(errs, dnsSubdomain(*s.RuntimeClassName, fld.Child("runtimeClassName"))...)
	}
	if s.Hostname != "" {
		errs = append(errs, dnsLabel(s.Hostname, fld.Child("hostname"))...)
	}
	if s.Subdomain != "" {
		errs = append(errs, dnsLabel(s.Subdomain, fld.Child("subdomain"))...)
	}
	return errs
}

// podNumbers checks the spec's durations.
func podNumbers(s *corev1.PodSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.TerminationGracePeriodSeconds != nil {
		errs = append(errs, nonNegative(*s.TerminationGracePeriodSeconds, fld.Child("terminationGracePeriodSeconds"))...)
	}
	if s.ActiveDeadlineSeconds != nil {
		errs = append(errs, activeDeadline(*s.ActiveDeadlineSeconds, fld.Child("activeDeadlineSeconds"))...)
	}
	return errs
}

func activeDeadline(v int64, fld *field.Path) field.ErrorList {
	if v < 1 || v > math.MaxUint32 {
		return field.ErrorList{field.Invalid(fld, v, validation.InclusiveRangeError(1, math.MaxUint32))}
	}
	return nil
}

// hostNetworkPorts: on the host's network a container port is a host port,
// so a hostPort, if given, must equal the containerPort.
func hostNetworkPorts(s *corev1.PodSpec, fld *field.Path) field.ErrorList {
	if !s.HostNetwork {
		return nil
	}
	var errs field.ErrorList
	check := func(cs []corev1.Container, fld *field.Path) {
		for i, c := range cs {
			for j, p := range c.Ports {
				if p.HostPort != 0 && p.HostPort != p.ContainerPort {
					errs = append(errs, field.Invalid(fld.Index(i).Child("ports").Index(j).Child("containerPort"),
						p.ContainerPort, "must match `hostPort` when `hostNetwork` is true"))
				}
			}
		}
	}
	check(s.InitContainers, fld.Child("initContainers"))
	check(s.Containers, fld.Child("containers"))
	return errs
}

func hostAliases(aliases []corev1.HostAlias, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, a := range aliases {
		errs = append(errs, validation.IsValidIPForLegacyField(fld.Index(i).Child("ip"), a.IP, true, nil)...)
		for j, h := range a.Hostnames {
			errs = append(errs, dnsSubdomain(h, fld.Index(i).Child("hostnames").Index(j))...)
		}
	}
	return errs
}

func readinessGates(gates []corev1.PodReadinessGate, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, g := range gates {
		errs = append(errs, qualifiedName(string(g.ConditionType), fld.Index(i).Child("conditionType"))...)
	}
	return errs
}

func schedulingGates(gates []corev1.PodSchedulingGate, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, g := range gates {
		errs = append(errs, qualifiedName(g.Name, fld.Index(i).Child("name"))...)
		if seen.Has(g.Name) {
			errs = append(errs, field.Duplicate(fld.Index(i), g.Name))
		}
		seen.Insert(g.Name)
	}
	return errs
}

func podOS(os *corev1.PodOS, fld *field.Path) field.ErrorList {
	if os == nil {
		return nil
	}
	return enum(os.Name, fld.Child("name"), corev1.Linux, corev1.Windows)
}
