package defaults

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Values of the apps/v1 defaulting functions.
const (
	// DefaultRevisionHistoryLimit is how many old revisions a Deployment,
	// StatefulSet or DaemonSet keeps when it names no limit.
	DefaultRevisionHistoryLimit int32 = 10
	// DefaultProgressDeadlineSeconds is a Deployment's progress deadline.
	DefaultProgressDeadlineSeconds int32 = 600
)

// PodTemplate applies SetDefaults_PodSpec to a workload's pod template, as
// kube does for every template: the pod's own admission defaults (service
// account, tolerations, requests from limits) wait for the pods made from
// it.
func PodTemplate(t *corev1.PodTemplateSpec) {
	podSpec(&t.Spec)
}

// Deployment applies SetDefaults_Deployment and the template's defaults.
func Deployment(d *appsv1.Deployment) {
	setReplicas(&d.Spec.Replicas)
	s := &d.Spec.Strategy
	if s.Type == "" {
		s.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if s.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if s.RollingUpdate == nil {
			s.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		setIntOrPercent(&s.RollingUpdate.MaxUnavailable, intstr.FromString("25%"))
		setIntOrPercent(&s.RollingUpdate.MaxSurge, intstr.FromString("25%"))
	}
	setInt32(&d.Spec.RevisionHistoryLimit, DefaultRevisionHistoryLimit)
	setInt32(&d.Spec.ProgressDeadlineSeconds, DefaultProgressDeadlineSeconds)
	PodTemplate(&d.Spec.Template)
}

// ReplicaSet applies SetDefaults_ReplicaSet and the template's defaults.
func ReplicaSet(rs *appsv1.ReplicaSet) {
	setReplicas(&rs.Spec.Replicas)
	PodTemplate(&rs.Spec.Template)
}

// StatefulSet applies SetDefaults_StatefulSet (the claim retention policy
// is GA) and the template's defaults.
func StatefulSet(ss *appsv1.StatefulSet) {
	spec := &ss.Spec
	if spec.PodManagementPolicy == "" {
		spec.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	}
	u := &spec.UpdateStrategy
	if u.Type == "" {
		u.Type = appsv1.RollingUpdateStatefulSetStrategyType
		if u.RollingUpdate == nil {
			u.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
	}
	if u.Type == appsv1.RollingUpdateStatefulSetStrategyType && u.RollingUpdate != nil {
		setInt32(&u.RollingUpdate.Partition, 0)
	}
	if spec.PersistentVolumeClaimRetentionPolicy == nil {
		spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	p := spec.PersistentVolumeClaimRetentionPolicy
	if p.WhenDeleted == "" {
		p.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if p.WhenScaled == "" {
		p.WhenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	setReplicas(&spec.Replicas)
	setInt32(&spec.RevisionHistoryLimit, DefaultRevisionHistoryLimit)
	PodTemplate(&spec.Template)
	for i := range spec.VolumeClaimTemplates {
		claimSpec(&spec.VolumeClaimTemplates[i].Spec)
	}
}

// DaemonSet applies SetDefaults_DaemonSet and the template's defaults.
func DaemonSet(ds *appsv1.DaemonSet) {
	u := &ds.Spec.UpdateStrategy
	if u.Type == "" {
		u.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if u.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if u.RollingUpdate == nil {
			u.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		setIntOrPercent(&u.RollingUpdate.MaxUnavailable, intstr.FromInt32(1))
		setIntOrPercent(&u.RollingUpdate.MaxSurge, intstr.FromInt32(0))
	}
	setInt32(&ds.Spec.RevisionHistoryLimit, DefaultRevisionHistoryLimit)
	PodTemplate(&ds.Spec.Template)
}

// ControllerRevision has no defaults.
func ControllerRevision(*appsv1.ControllerRevision) {}

func setReplicas(r **int32) { setInt32(r, 1) }

func setInt32(p **int32, v int32) {
	if *p == nil {
		*p = ptrTo(v)
	}
}

func setIntOrPercent(p **intstr.IntOrString, v intstr.IntOrString) {
	if *p == nil {
		*p = &v
	}
}
