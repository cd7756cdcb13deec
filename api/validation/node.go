package validation

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Node validates a node on create: metadata, taints, pod CIDRs, and the
// quantities in status.capacity and status.allocatable.
func Node(n *corev1.Node) field.ErrorList {
	errs := ObjectMeta(&n.ObjectMeta, false, apimachineryvalidation.NameIsDNSSubdomain)
	// kube-apiserver reports taint errors under metadata.taints; we match it.
	errs = append(errs, taints(n.Spec.Taints, field.NewPath("metadata", "taints"))...)
	errs = append(errs, podCIDRs(n.Spec.PodCIDR, n.Spec.PodCIDRs, field.NewPath("spec"))...)
	errs = append(errs, nodeResources(n.Status.Capacity, field.NewPath("status", "capacity"))...)
	return append(errs, nodeResources(n.Status.Allocatable, field.NewPath("status", "allocatable"))...)
}

// taints: a valid key, value and effect, unique by key and effect.
func taints(ts []corev1.Taint, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, t := range ts {
		idx := fld.Index(i)
		errs = append(errs, metav1validation.ValidateLabelName(t.Key, idx.Child("key"))...)
		errs = append(errs, invalids(idx.Child("value"), t.Value, validation.IsValidLabelValue(t.Value))...)
		errs = append(errs, enum(t.Effect, idx.Child("effect"), taintEffects()...)...)
		key := string(t.Effect) + "/" + t.Key
		if seen.Has(key) {
			dup := field.Duplicate(idx, t)
			dup.Detail = "taints must be unique by key and effect pair"
			errs = append(errs, dup)
		}
		seen.Insert(key)
	}
	return errs
}

// podCIDRs: valid CIDRs, at most one per family, podCIDRs[0] == podCIDR.
func podCIDRs(single string, list []string, fld *field.Path) field.ErrorList {
	listPath := fld.Child("podCIDRs")
	var errs field.ErrorList
	if single != "" && len(list) == 0 {
		errs = append(errs, validation.IsValidCIDRForLegacyField(fld.Child("podCIDR"), single, true, nil)...)
	}
	for i, c := range list {
		errs = append(errs, validation.IsValidCIDRForLegacyField(listPath.Index(i), c, true, nil)...)
	}
	if len(errs) > 0 {
		return errs
	}
	if single != "" && len(list) > 0 && list[0] != single {
		errs = append(errs, field.Invalid(listPath.Index(0), list[0], "must match `podCIDR`"))
	}
	if len(list) > 1 && !dualStack(cidrAddrs(list)) {
		errs = append(errs, field.Invalid(listPath, list, "may specify no more than one CIDR for each IP family"))
	}
	return errs
}

// cidrAddrs strips the prefix lengths off CIDRs, leaving their addresses.
func cidrAddrs(cidrs []string) []string {
	out := make([]string, len(cidrs))
	for i, c := range cidrs {
		out[i], _, _ = strings.Cut(c, "/")
	}
	return out
}

// nodeResources: quantities of at least 0, paths like status.capacity.cpu.
func nodeResources(list corev1.ResourceList, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, name := range sortedKeys(list) {
		q := list[name]
		p := fld.Child(string(name))
		errs = append(errs, qualifiedName(string(name), p)...)
		if q.Sign() < 0 {
			errs = append(errs, field.Invalid(p, q.String(), nonNegativeMsg))
		}
	}
	return errs
}

// podCIDRUpdateMsg and providerIDUpdateMsg are kube's words for a node
// update that changes a set pod CIDR or provider ID.
const (
	podCIDRUpdateMsg    = `node updates may not change podCIDR except from "" to valid`
	providerIDUpdateMsg = `node updates may not change providerID except from "" to valid`
)

// NodeUpdate validates an update of a node or its status (kube's
// ValidateNodeUpdate): metadata, quantities, unique addresses, taints, and
// spec.podCIDRs and spec.providerID, which may be set once and then never
// change. The main resource also runs Node's create rules.
func NodeUpdate(n, old *corev1.Node) field.ErrorList {
	errs := ObjectMetaUpdate(&n.ObjectMeta, &old.ObjectMeta)
	errs = append(errs, nodeResources(n.Status.Capacity, field.NewPath("status", "capacity"))...)
	errs = append(errs, nodeResources(n.Status.Allocatable, field.NewPath("status", "allocatable"))...)
	errs = append(errs, uniqueAddresses(n.Status.Addresses, field.NewPath("status", "addresses"))...)
	errs = append(errs, podCIDRsUpdate(effectivePodCIDRs(n.Spec), effectivePodCIDRs(old.Spec))...)
	if old.Spec.ProviderID != "" && n.Spec.ProviderID != old.Spec.ProviderID {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "providerID"), providerIDUpdateMsg))
	}
	return append(errs, taints(n.Spec.Taints, field.NewPath("metadata", "taints"))...)
}

// effectivePodCIDRs is spec.podCIDRs, or the legacy spec.podCIDR alone, as
// kube's conversion to its internal type reads them.
func effectivePodCIDRs(s corev1.NodeSpec) []string {
	if len(s.PodCIDRs) > 0 || s.PodCIDR == "" {
		return s.PodCIDRs
	}
	return []string{s.PodCIDR}
}

// podCIDRsUpdate: pod CIDRs, once set, stay as they are; kube reports each
// changed entry.
func podCIDRsUpdate(cidrs, old []string) field.ErrorList {
	fld := field.NewPath("spec", "podCIDRs")
	if len(old) == 0 {
		return nil
	}
	if len(cidrs) != len(old) {
		return field.ErrorList{field.Forbidden(fld, podCIDRUpdateMsg)}
	}
	var errs field.ErrorList
	for i := range old {
		if cidrs[i] != old[i] {
			errs = append(errs, field.Forbidden(fld, podCIDRUpdateMsg))
		}
	}
	return errs
}

func uniqueAddresses(addrs []corev1.NodeAddress, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[corev1.NodeAddress]bool{}
	for i, a := range addrs {
		if seen[a] {
			errs = append(errs, field.Duplicate(fld.Index(i), a))
		}
		seen[a] = true
	}
	return errs
}
