package validation

import (
	"fmt"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func podPhases() []corev1.PodPhase {
	return []corev1.PodPhase{corev1.PodPending, corev1.PodRunning, corev1.PodSucceeded, corev1.PodFailed, corev1.PodUnknown}
}

// PodStatusUpdate validates an update through the status subresource. The
// caller keeps the old spec; only metadata and status are checked here.
func PodStatusUpdate(newP, oldP *corev1.Pod) field.ErrorList {
	fld := field.NewPath("status")
	errs := ObjectMetaUpdate(&newP.ObjectMeta, &oldP.ObjectMeta)
	errs = append(errs, mirrorAnnotationUpdate(newP.Annotations, oldP.Annotations)...)
	errs = append(errs, phaseUpdate(newP.Status.Phase, oldP.Status.Phase, fld.Child("phase"))...)
	if oldP.Status.QOSClass != "" {
		errs = append(errs, apimachineryvalidation.ValidateImmutableField(newP.Status.QOSClass, oldP.Status.QOSClass, fld.Child("qosClass"))...)
	}
	if n := newP.Status.NominatedNodeName; n != "" {
		errs = append(errs, dnsSubdomain(n, fld.Child("nominatedNodeName"))...)
	}
	errs = append(errs, podConditions(newP.Status.Conditions, fld.Child("conditions"))...)
	errs = append(errs, statusIPs(newP.Status.PodIP, podIPs(newP.Status.PodIPs), fld, "podIP", "podIPs")...)
	errs = append(errs, statusIPs(newP.Status.HostIP, hostIPs(newP.Status.HostIPs), fld, "hostIP", "hostIPs")...)
	policy := newP.Spec.RestartPolicy
	errs = append(errs, stayTerminated(newP.Status.ContainerStatuses, oldP.Status.ContainerStatuses, policy, fld.Child("containerStatuses"))...)
	return append(errs, stayTerminated(newP.Status.InitContainerStatuses, oldP.Status.InitContainerStatuses, policy, fld.Child("initContainerStatuses"))...)
}

// phaseUpdate: a known phase, and a pod that has finished stays finished.
func phaseUpdate(newPhase, oldPhase corev1.PodPhase, fld *field.Path) field.ErrorList {
	if errs := optionalEnum(newPhase, fld, podPhases()...); len(errs) > 0 {
		return errs
	}
	terminal := oldPhase == corev1.PodSucceeded || oldPhase == corev1.PodFailed
	if terminal && newPhase != oldPhase {
		return field.ErrorList{field.Forbidden(fld, fmt.Sprintf("may not transition from terminal phase %s to %s", oldPhase, newPhase))}
	}
	return nil
}

func podConditions(cs []corev1.PodCondition, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, c := range cs {
		idx := fld.Index(i)
		if c.Type == "" {
			errs = append(errs, field.Required(idx.Child("type"), ""))
		} else {
			errs = append(errs, qualifiedName(string(c.Type), idx.Child("type"))...)
		}
		errs = append(errs, enum(c.Status, idx.Child("status"),
			corev1.ConditionTrue, corev1.ConditionFalse, corev1.ConditionUnknown)...)
	}
	return errs
}

func podIPs(ips []corev1.PodIP) []string {
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.IP
	}
	return out
}

func hostIPs(ips []corev1.HostIP) []string {
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.IP
	}
	return out
}

// statusIPs checks a pod's single IP field against its list: valid IPs, at
// most one per family, and the list starting with the single one.
func statusIPs(single string, list []string, fld *field.Path, singleName, listName string) field.ErrorList {
	listPath := fld.Child(listName)
	var errs field.ErrorList
	if single != "" {
		errs = append(errs, validation.IsValidIPForLegacyField(fld.Child(singleName), single, true, nil)...)
	}
	for i, ip := range list {
		errs = append(errs, validation.IsValidIPForLegacyField(listPath.Index(i).Child("ip"), ip, true, nil)...)
	}
	if len(errs) > 0 {
		return errs
	}
	if len(list) > 0 && single != "" && list[0] != single {
		errs = append(errs, field.Invalid(listPath.Index(0).Child("ip"), list[0], fmt.Sprintf("must match `%s`", singleName)))
	}
	if len(list) > 1 && !dualStack(list) {
		errs = append(errs, field.Invalid(listPath, list, "may specify no more than one IP for each IP family"))
	}
	return errs
}

// dualStack reports whether ips are exactly one IPv4 and one IPv6 address.
func dualStack(ips []string) bool {
	if len(ips) != 2 {
		return false
	}
	is4 := func(s string) bool {
		a, err := netip.ParseAddr(s)
		return err == nil && a.Unmap().Is4()
	}
	return is4(ips[0]) != is4(ips[1])
}

// stayTerminated: under restartPolicy Never a terminated container never
// runs again, and under OnFailure neither does one that exited 0.
func stayTerminated(newSt, oldSt []corev1.ContainerStatus, policy corev1.RestartPolicy, fld *field.Path) field.ErrorList {
	if policy == corev1.RestartPolicyAlways {
		return nil
	}
	var errs field.ErrorList
	for i, st := range newSt {
		j := slices.IndexFunc(oldSt, func(o corev1.ContainerStatus) bool { return o.Name == st.Name })
		if j < 0 || oldSt[j].State.Terminated == nil || st.State.Terminated != nil {
			continue
		}
		if policy == corev1.RestartPolicyNever || oldSt[j].State.Terminated.ExitCode == 0 {
			errs = append(errs, field.Forbidden(fld.Index(i).Child("state"), "may not be transitioned to non-terminated state"))
		}
	}
	return errs
}
