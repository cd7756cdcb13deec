package validation

import (
	"fmt"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// podSpecUpdateMsg is the start of kube's message for a forbidden change.
const podSpecUpdateMsg = "pod updates may not change fields other than " +
	"`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`," +
	"`spec.tolerations` (only additions to existing tolerations)," +
	"`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)," +
	"`spec.schedulingGates` (only removals)"

// PodUpdate validates an update of a pod's metadata and spec. The spec is
// immutable except for container and init container images, lowering
// activeDeadlineSeconds, adding tolerations (or changing their
// tolerationSeconds), removing scheduling gates, and raising a negative
// terminationGracePeriodSeconds to 1.
func PodUpdate(newP, oldP *corev1.Pod) field.ErrorList {
	specPath := field.NewPath("spec")
	errs := ObjectMetaUpdate(&newP.ObjectMeta, &oldP.ObjectMeta)
	errs = append(errs, mirrorAnnotationUpdate(newP.Annotations, oldP.Annotations)...)
	errs = append(errs, podSpec(&newP.Spec, specPath)...)
	if cerrs := sameContainers(&newP.Spec, &oldP.Spec, specPath); len(cerrs) > 0 {
		return append(errs, cerrs...)
	}
	errs = append(errs, activeDeadlineUpdate(newP.Spec.ActiveDeadlineSeconds, oldP.Spec.ActiveDeadlineSeconds,
		specPath.Child("activeDeadlineSeconds"))...)
	errs = append(errs, tolerationsUpdate(newP.Spec.Tolerations, oldP.Spec.Tolerations, specPath.Child("tolerations"))...)
	errs = append(errs, schedulingGatesUpdate(newP.Spec.SchedulingGates, oldP.Spec.SchedulingGates,
		specPath.Child("schedulingGates"))...)
	if changed := changedSpecFields(&newP.Spec, &oldP.Spec); len(changed) > 0 {
		errs = append(errs, field.Forbidden(specPath,
			fmt.Sprintf("%s\nchanged: %s", podSpecUpdateMsg, strings.Join(changed, ", "))))
	}
	return errs
}

// sameContainers: an update may not add or remove containers.
func sameContainers(newS, oldS *corev1.PodSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(newS.Containers) != len(oldS.Containers) {
		errs = append(errs, field.Forbidden(fld.Child("containers"), "pod updates may not add or remove containers"))
	}
	if len(newS.InitContainers) != len(oldS.InitContainers) {
		errs = append(errs, field.Forbidden(fld.Child("initContainers"), "pod updates may not add or remove containers"))
	}
	return errs
}

// activeDeadlineUpdate: the deadline may be set or lowered, not raised or
// removed.
func activeDeadlineUpdate(newV, oldV *int64, fld *field.Path) field.ErrorList {
	switch {
	case oldV == nil:
		return nil
	case newV == nil:
		return field.ErrorList{field.Invalid(fld, newV, "must not update from a positive integer to nil value")}
	case *newV > *oldV:
		return field.ErrorList{field.Invalid(fld, *newV, "must be less than or equal to previous value")}
	}
	return nil
}

// tolerationsUpdate: every old toleration must still be there, though its
// tolerationSeconds may change.
func tolerationsUpdate(newTs, oldTs []corev1.Toleration, fld *field.Path) field.ErrorList {
	for _, old := range oldTs {
		if !hasTolerationIgnoringSeconds(newTs, old) {
			return field.ErrorList{field.Forbidden(fld, "existing toleration can not be modified except its tolerationSeconds")}
		}
	}
	return nil
}

func hasTolerationIgnoringSeconds(ts []corev1.Toleration, want corev1.Toleration) bool {
	for _, t := range ts {
		want.TolerationSeconds = t.TolerationSeconds
		if reflect.DeepEqual(t, want) {
			return true
		}
	}
	return false
}

func schedulingGatesUpdate(newGates, oldGates []corev1.PodSchedulingGate, fld *field.Path) field.ErrorList {
	old := sets.New[string]()
	for _, g := range oldGates {
		old.Insert(g.Name)
	}
	for _, g := range newGates {
		if !old.Has(g.Name) {
			return field.ErrorList{field.Forbidden(fld, fmt.Sprintf("only deletion is allowed, but found new scheduling gate '%s'", g.Name))}
		}
	}
	return nil
}

// changedSpecFields names, by JSON field, what changed in the spec once the
// updatable fields are set back to their old values.
func changedSpecFields(newS, oldS *corev1.PodSpec) []string {
	m := newS.DeepCopy()
	for i := range m.Containers {
		m.Containers[i].Image = oldS.Containers[i].Image
	}
	for i := range m.InitContainers {
		m.InitContainers[i].Image = oldS.InitContainers[i].Image
	}
	m.ActiveDeadlineSeconds = oldS.ActiveDeadlineSeconds
	m.Tolerations = oldS.Tolerations
	m.SchedulingGates = oldS.SchedulingGates
	if g, og := m.TerminationGracePeriodSeconds, oldS.TerminationGracePeriodSeconds; g != nil && og != nil && *og < 0 && *g == 1 {
		m.TerminationGracePeriodSeconds = og
	}
	return changedFields(m, oldS)
}

func changedFields(a, b *corev1.PodSpec) []string {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	var changed []string
	for i := range va.NumField() {
		if !equality.Semantic.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			changed = append(changed, "spec."+jsonName(va.Type().Field(i)))
		}
	}
	return changed
}

// MirrorPodAnnotation marks the API face of a node's static pod.
const MirrorPodAnnotation = "kubernetes.io/config.mirror"

// mirrorAnnotationUpdate: a pod is a mirror pod from its creation on or
// never; no update may add, change or remove the annotation (the Node
// authorizer's graph and the node restrictions tell mirror pods by it).
func mirrorAnnotationUpdate(newA, oldA map[string]string) field.ErrorList {
	fld := metadataPath().Child("annotations").Key(MirrorPodAnnotation)
	oldV, had := oldA[MirrorPodAnnotation]
	newV, has := newA[MirrorPodAnnotation]
	switch {
	case had && (!has || newV != oldV):
		return field.ErrorList{field.Forbidden(fld, "may not remove or update mirror pod annotation")}
	case has && !had:
		return field.ErrorList{field.Forbidden(fld, "may not add mirror pod annotation")}
	}
	return nil
}
