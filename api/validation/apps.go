package validation

import (
	"fmt"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	specPath   = field.NewPath("spec")
	statusPath = field.NewPath("status")
)

// Deployment validates a Deployment as kube's ValidateDeployment.
func Deployment(d *appsv1.Deployment) field.ErrorList {
	errs := ObjectMeta(&d.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain)
	return append(errs, deploymentSpec(&d.Spec, specPath)...)
}

// DeploymentUpdate validates an update, of the object or of its status:
// the create rules, the metadata rules, the status rules and apps/v1's
// immutable selector.
func DeploymentUpdate(d, old *appsv1.Deployment) field.ErrorList {
	errs := ObjectMetaUpdate(&d.ObjectMeta, &old.ObjectMeta)
	errs = append(errs, Deployment(d)...)
	errs = append(errs, deploymentStatus(&d.Status, statusPath)...)
	return append(errs, immutable(d.Spec.Selector, old.Spec.Selector, specPath.Child("selector"))...)
}

func deploymentSpec(s *appsv1.DeploymentSpec, fld *field.Path) field.ErrorList {
	errs := replicas(s.Replicas, fld.Child("replicas"))
	errs = append(errs, selectorRequired(s.Selector, "deployment", fld.Child("selector"))...)
	errs = append(errs, replicatedTemplate(s.Selector, &s.Template, "ReplicaSet", fld.Child("template"))...)
	errs = append(errs, deploymentStrategy(&s.Strategy, fld.Child("strategy"))...)
	errs = append(errs, nonNegative(int64(s.MinReadySeconds), fld.Child("minReadySeconds"))...)
	if s.RevisionHistoryLimit != nil {
		errs = append(errs, nonNegative(int64(*s.RevisionHistoryLimit), fld.Child("revisionHistoryLimit"))...)
	}
	if p := s.ProgressDeadlineSeconds; p != nil {
		errs = append(errs, nonNegative(int64(*p), fld.Child("progressDeadlineSeconds"))...)
		if *p <= s.MinReadySeconds {
			errs = append(errs, field.Invalid(fld.Child("progressDeadlineSeconds"), *p, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

func replicas(r *int32, fld *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	return nonNegative(int64(*r), fld)
}

func deploymentStrategy(s *appsv1.DeploymentStrategy, fld *field.Path) field.ErrorList {
	switch s.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if s.RollingUpdate != nil {
			return field.ErrorList{field.Forbidden(fld.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")}
		}
	case appsv1.RollingUpdateDeploymentStrategyType:
		if s.RollingUpdate == nil {
			return field.ErrorList{field.Required(fld.Child("rollingUpdate"), "this should be defaulted and never be nil")}
		}
		return rollingUpdateDeployment(s.RollingUpdate, fld.Child("rollingUpdate"))
	default:
		return field.ErrorList{field.NotSupported(fld.Child("type"), s.Type,
			[]appsv1.DeploymentStrategyType{appsv1.RecreateDeploymentStrategyType, appsv1.RollingUpdateDeploymentStrategyType})}
	}
	return nil
}

func rollingUpdateDeployment(r *appsv1.RollingUpdateDeployment, fld *field.Path) field.ErrorList {
	errs := intOrPercent(r.MaxUnavailable, fld.Child("maxUnavailable"))
	errs = append(errs, intOrPercent(r.MaxSurge, fld.Child("maxSurge"))...)
	if intOrPercentValue(r.MaxUnavailable) == 0 && intOrPercentValue(r.MaxSurge) == 0 {
		errs = append(errs, field.Invalid(fld.Child("maxUnavailable"), ptrValue(r.MaxUnavailable), "may not be 0 when `maxSurge` is 0"))
	}
	return append(errs, notOver100Percent(r.MaxUnavailable, fld.Child("maxUnavailable"))...)
}

// intOrPercent is kube's ValidatePositiveIntOrPercent: a non-negative
// integer or a percentage.
func intOrPercent(v *intstr.IntOrString, fld *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	if v.Type == intstr.String {
		return invalids(fld, *v, validation.IsValidPercent(v.StrVal))
	}
	return nonNegative(int64(v.IntVal), fld)
}

// intOrPercentValue is the number in v, a percentage's too; 0 when unset.
func intOrPercentValue(v *intstr.IntOrString) int {
	if v == nil {
		return 0
	}
	if v.Type == intstr.Int {
		return int(v.IntVal)
	}
	n, _ := percent(v)
	return n
}

func percent(v *intstr.IntOrString) (int, bool) {
	if v == nil || v.Type != intstr.String || len(validation.IsValidPercent(v.StrVal)) != 0 {
		return 0, false
	}
	n, _ := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
	return n, true
}

func notOver100Percent(v *intstr.IntOrString, fld *field.Path) field.ErrorList {
	if n, ok := percent(v); ok && n > 100 {
		return field.ErrorList{field.Invalid(fld, *v, "must not be greater than 100%")}
	}
	return nil
}

// ReplicaSet validates a ReplicaSet as kube's ValidateReplicaSet.
func ReplicaSet(rs *appsv1.ReplicaSet) field.ErrorList {
	errs := ObjectMeta(&rs.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain)
	s, fld := &rs.Spec, specPath
	errs = append(errs, replicas(s.Replicas, fld.Child("replicas"))...)
	errs = append(errs, nonNegative(int64(s.MinReadySeconds), fld.Child("minReadySeconds"))...)
	errs = append(errs, selectorRequired(s.Selector, "replicaset", fld.Child("selector"))...)
	return append(errs, replicatedTemplate(s.Selector, &s.Template, "ReplicaSet", fld.Child("template"))...)
}

// ReplicaSetUpdate validates an update of a ReplicaSet or its status.
func ReplicaSetUpdate(rs, old *appsv1.ReplicaSet) field.ErrorList {
	errs := ObjectMetaUpdate(&rs.ObjectMeta, &old.ObjectMeta)
	errs = append(errs, ReplicaSet(rs)...)
	errs = append(errs, replicaSetStatus(&rs.Status, statusPath)...)
	return append(errs, immutable(rs.Spec.Selector, old.Spec.Selector, specPath.Child("selector"))...)
}

// StatefulSet validates a StatefulSet as kube's ValidateStatefulSet
// (serviceName is optional, as since kube 1.34).
func StatefulSet(ss *appsv1.StatefulSet) field.ErrorList {
	errs := ObjectMeta(&ss.ObjectMeta, true, apimachineryvalidation.NameIsDNSLabel)
	return append(errs, statefulSetSpec(&ss.Spec, specPath)...)
}

func statefulSetSpec(s *appsv1.StatefulSetSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, podManagementPolicy(s.PodManagementPolicy, fld.Child("podManagementPolicy"))...)
	errs = append(errs, statefulSetUpdateStrategy(&s.UpdateStrategy, fld.Child("updateStrategy"))...)
	errs = append(errs, claimRetention(s.PersistentVolumeClaimRetentionPolicy, fld.Child("persistentVolumeClaimRetentionPolicy"))...)
	errs = append(errs, replicas(s.Replicas, fld.Child("replicas"))...)
	errs = append(errs, nonNegative(int64(s.MinReadySeconds), fld.Child("minReadySeconds"))...)
	if s.Ordinals != nil {
		errs = append(errs, nonNegative(int64(s.Ordinals.Start), fld.Child("ordinals", "start"))...)
	}
	if s.ServiceName != "" {
		errs = append(errs, dnsLabel(s.ServiceName, fld.Child("serviceName"))...)
	}
	errs = append(errs, selectorRequired(s.Selector, "statefulset", fld.Child("selector"))...)
	return append(errs, statefulSetTemplate(s.Selector, &s.Template, fld.Child("template"))...)
}

func podManagementPolicy(p appsv1.PodManagementPolicyType, fld *field.Path) field.ErrorList {
	switch p {
	case "":
		return field.ErrorList{field.Required(fld, "")}
	case appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement:
		return nil
	}
	return field.ErrorList{field.Invalid(fld, p, fmt.Sprintf("must be '%s' or '%s'", appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement))}
}

func statefulSetUpdateStrategy(u *appsv1.StatefulSetUpdateStrategy, fld *field.Path) field.ErrorList {
	switch u.Type {
	case appsv1.OnDeleteStatefulSetStrategyType:
		if u.RollingUpdate != nil {
			return field.ErrorList{field.Invalid(fld.Child("rollingUpdate"), u.RollingUpdate,
				fmt.Sprintf("only allowed for updateStrategy '%s'", appsv1.RollingUpdateStatefulSetStrategyType))}
		}
	case appsv1.RollingUpdateStatefulSetStrategyType:
		if u.RollingUpdate != nil && u.RollingUpdate.Partition != nil {
			return nonNegative(int64(*u.RollingUpdate.Partition), fld.Child("rollingUpdate", "partition"))
		}
	case "":
		return field.ErrorList{field.Required(fld, "")}
	default:
		return field.ErrorList{field.Invalid(fld, u, fmt.Sprintf("must be '%s' or '%s'",
			appsv1.RollingUpdateStatefulSetStrategyType, appsv1.OnDeleteStatefulSetStrategyType))}
	}
	return nil
}

func claimRetention(p *appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy, fld *field.Path) field.ErrorList {
	if p == nil {
		return nil
	}
	valid := []appsv1.PersistentVolumeClaimRetentionPolicyType{appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType}
	errs := enum(p.WhenDeleted, fld.Child("whenDeleted"), valid...)
	return append(errs, enum(p.WhenScaled, fld.Child("whenScaled"), valid...)...)
}

// StatefulSetUpdate validates an update: only replicas, ordinals,
// template, updateStrategy, the claim retention policy and minReadySeconds
// may change; the name is not checked again (kube once allowed names
// that are not DNS labels). The status is checked too: an update keeps
// the stored one, a status update the stored spec.
func StatefulSetUpdate(ss, old *appsv1.StatefulSet) field.ErrorList {
	errs := ObjectMetaUpdate(&ss.ObjectMeta, &old.ObjectMeta)
	errs = append(errs, statefulSetSpec(&ss.Spec, specPath)...)
	errs = append(errs, statefulSetStatus(&ss.Status, statusPath)...)
	if !statefulSetFixedEqual(ss.Spec, old.Spec) {
		errs = append(errs, field.Forbidden(specPath, "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"))
	}
	return errs
}

func statefulSetFixedEqual(a, b appsv1.StatefulSetSpec) bool {
	for _, s := range []*appsv1.StatefulSetSpec{&a, &b} {
		s.Replicas, s.Ordinals, s.Template, s.UpdateStrategy = nil, nil, b.Template, appsv1.StatefulSetUpdateStrategy{}
		s.PersistentVolumeClaimRetentionPolicy, s.MinReadySeconds = nil, 0
	}
	return len(immutable(a, b, specPath)) == 0
}

// DaemonSet validates a DaemonSet as kube's ValidateDaemonSet.
func DaemonSet(ds *appsv1.DaemonSet) field.ErrorList {
	errs := ObjectMeta(&ds.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain)
	s, fld := &ds.Spec, specPath
	errs = append(errs, selectorRequired(s.Selector, "daemonset", fld.Child("selector"))...)
	errs = append(errs, replicatedTemplate(s.Selector, &s.Template, "DaemonSet", fld.Child("template"))...)
	errs = append(errs, nonNegative(int64(s.MinReadySeconds), fld.Child("minReadySeconds"))...)
	errs = append(errs, daemonSetUpdateStrategy(&s.UpdateStrategy, fld.Child("updateStrategy"))...)
	if s.RevisionHistoryLimit != nil {
		errs = append(errs, nonNegative(int64(*s.RevisionHistoryLimit), fld.Child("revisionHistoryLimit"))...)
	}
	return errs
}

// DaemonSetUpdate validates an update of a DaemonSet or its status.
func DaemonSetUpdate(ds, old *appsv1.DaemonSet) field.ErrorList {
	errs := ObjectMetaUpdate(&ds.ObjectMeta, &old.ObjectMeta)
	errs = append(errs, DaemonSet(ds)...)
	errs = append(errs, daemonSetStatus(&ds.Status, statusPath)...)
	return append(errs, immutable(ds.Spec.Selector, old.Spec.Selector, specPath.Child("selector"))...)
}

func daemonSetUpdateStrategy(u *appsv1.DaemonSetUpdateStrategy, fld *field.Path) field.ErrorList {
	errs := enum(u.Type, fld.Child("type"), appsv1.RollingUpdateDaemonSetStrategyType, appsv1.OnDeleteDaemonSetStrategyType)
	if u.Type != appsv1.RollingUpdateDaemonSetStrategyType {
		return errs
	}
	if u.RollingUpdate == nil {
		return append(errs, field.Required(fld.Child("rollingUpdate"), ""))
	}
	return append(errs, rollingUpdateDaemonSet(u.RollingUpdate, fld.Child("rollingUpdate"))...)
}

func rollingUpdateDaemonSet(r *appsv1.RollingUpdateDaemonSet, fld *field.Path) field.ErrorList {
	errs := intOrPercent(r.MaxUnavailable, fld.Child("maxUnavailable"))
	errs = append(errs, intOrPercent(r.MaxSurge, fld.Child("maxSurge"))...)
	errs = append(errs, notOver100Percent(r.MaxUnavailable, fld.Child("maxUnavailable"))...)
	errs = append(errs, notOver100Percent(r.MaxSurge, fld.Child("maxSurge"))...)
	unavailable, surge := intOrPercentValue(r.MaxUnavailable) != 0, intOrPercentValue(r.MaxSurge) != 0
	switch {
	case unavailable && surge:
		errs = append(errs, field.Invalid(fld.Child("maxSurge"), ptrValue(r.MaxSurge), "may not be set when maxUnavailable is non-zero"))
	case !unavailable && !surge:
		errs = append(errs, field.Required(fld.Child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
	}
	return errs
}

// ControllerRevision validates a ControllerRevision: data is required and
// the revision is not negative.
func ControllerRevision(cr *appsv1.ControllerRevision) field.ErrorList {
	errs := ObjectMeta(&cr.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain)
	if cr.Data.Raw == nil && cr.Data.Object == nil {
		errs = append(errs, field.Required(field.NewPath("data"), "data is mandatory"))
	}
	return append(errs, nonNegative(cr.Revision, field.NewPath("revision"))...)
}

// ControllerRevisionUpdate validates an update: data may not change.
func ControllerRevisionUpdate(cr, old *appsv1.ControllerRevision) field.ErrorList {
	errs := ObjectMetaUpdate(&cr.ObjectMeta, &old.ObjectMeta)
	errs = append(errs, ControllerRevision(cr)...)
	return append(errs, immutable(cr.Data, old.Data, field.NewPath("data"))...)
}
