package statefulset

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

var t0 = time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func testSet(n int32, change ...func(*appsv1.StatefulSet)) *appsv1.StatefulSet {
	set := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "set-uid", Generation: 1, ResourceVersion: "1"},
		Spec: appsv1.StatefulSetSpec{Replicas: ptr(n), ServiceName: "web-svc",
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img:v1"}}}},
			PodManagementPolicy: appsv1.OrderedReadyPodManagement,
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(0))}}}}
	for _, c := range change {
		c(set)
	}
	return set
}

func withClaims(set *appsv1.StatefulSet) {
	set.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}}
}

func parallel(set *appsv1.StatefulSet) { set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement }

// revs are a current revision "web-r1" (image v1) and an update one,
// "web-r2" (image v2) or the same as current.
func revs(set *appsv1.StatefulSet, updated bool) *revisions {
	cur := &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "web-r1"}}
	r := &revisions{current: cur, update: cur, currentT: set.Spec.Template.DeepCopy(), updateT: set.Spec.Template.DeepCopy()}
	if updated {
		r.update = &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "web-r2"}}
		r.updateT.Spec.Containers[0].Image = "img:v2"
	}
	return r
}

// pod is the set's pod of ordinal ord at revision rev, Running and Ready
// since an hour before t0 when ready.
func pod(set *appsv1.StatefulSet, ord int, rev string, ready bool) *corev1.Pod {
	p := newPod(set, &set.Spec.Template, ord, rev)
	p.UID = types.UID("uid-" + p.Name)
	p.Status.Phase = corev1.PodPending
	if ready {
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t0.Add(-time.Hour))}}
	}
	return p
}

func names(pods []*corev1.Pod) []string {
	out := []string{}
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}
