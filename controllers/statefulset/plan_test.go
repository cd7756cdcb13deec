package statefulset

import (
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func plan(set *appsv1.StatefulSet, updated bool, pods ...*corev1.Pod) Actions {
	return Plan(state{set: set, rev: revs(set, updated), pods: pods, now: t0})
}

func check(t *testing.T, what string, a Actions, create, del []string) {
	t.Helper()
	if !slices.Equal(names(a.Create), create) || !slices.Equal(names(a.Delete), del) {
		t.Errorf("%s: create %v delete %v, want create %v delete %v", what, names(a.Create), names(a.Delete), create, del)
	}
}

func TestOrderedReadyScaleUpOneAtATime(t *testing.T) {
	set := testSet(3)
	check(t, "empty", plan(set, false), []string{"web-0"}, []string{})
	check(t, "web-0 pending", plan(set, false, pod(set, 0, "web-r1", false)), []string{}, []string{})
	check(t, "web-0 ready", plan(set, false, pod(set, 0, "web-r1", true)), []string{"web-1"}, []string{})
	gone := pod(set, 0, "web-r1", true)
	gone.DeletionTimestamp = ptr(metav1.NewTime(t0))
	check(t, "web-0 terminating", plan(set, false, gone), []string{}, []string{})
	set.Spec.MinReadySeconds = 7200
	check(t, "web-0 ready, not yet for minReadySeconds", plan(set, false, pod(set, 0, "web-r1", true)), []string{}, []string{})
}

func TestParallelCreatesAndDeletesAtOnce(t *testing.T) {
	set := testSet(3, parallel)
	check(t, "empty", plan(set, false), []string{"web-0", "web-1", "web-2"}, []string{})
	set.Spec.Replicas = ptr(int32(1))
	check(t, "scale down", plan(set, false, pod(set, 0, "web-r1", false), pod(set, 1, "web-r1", false), pod(set, 2, "web-r1", true)),
		[]string{}, []string{"web-2", "web-1"})
}

func TestOrderedReadyScaleDownFromTheTop(t *testing.T) {
	set := testSet(1)
	all := []*corev1.Pod{pod(set, 0, "web-r1", true), pod(set, 1, "web-r1", true), pod(set, 2, "web-r1", true)}
	check(t, "all ready", plan(set, false, all...), []string{}, []string{"web-2"})
	all[2].DeletionTimestamp = ptr(metav1.NewTime(t0))
	check(t, "web-2 terminating", plan(set, false, all...), []string{}, []string{})
	// web-1 unready is the first unhealthy pod: it may go.
	check(t, "web-1 unready", plan(set, false, all[0], pod(set, 1, "web-r1", false)), []string{}, []string{"web-1"})
	// web-2 unready but web-1 also: wait for web-1.
	check(t, "both unready", plan(set, false, all[0], pod(set, 1, "web-r1", false), pod(set, 2, "web-r1", false)), []string{}, []string{})
}

func TestFailedPodIsDeleted(t *testing.T) {
	set := testSet(2)
	failed := pod(set, 0, "web-r1", false)
	failed.Status.Phase = corev1.PodFailed
	check(t, "failed web-0", plan(set, false, failed, pod(set, 1, "web-r1", true)), []string{}, []string{"web-0"})
}

func TestRollingUpdateFromTheTop(t *testing.T) {
	set := testSet(3)
	old := func(ord int) *corev1.Pod { return pod(set, ord, "web-r1", true) }
	check(t, "start", plan(set, true, old(0), old(1), old(2)), []string{}, []string{"web-2"})
	a := plan(set, true, old(0), old(1))
	check(t, "web-2 gone", a, []string{"web-2"}, []string{})
	if a.Create[0].Labels[appsv1.ControllerRevisionHashLabelKey] != "web-r2" || a.Create[0].Spec.Containers[0].Image != "img:v2" {
		t.Errorf("web-2 remade at %v", a.Create[0].Labels)
	}
	check(t, "web-2 not ready", plan(set, true, old(0), old(1), pod(set, 2, "web-r2", false)), []string{}, []string{})
	check(t, "web-2 ready", plan(set, true, old(0), old(1), pod(set, 2, "web-r2", true)), []string{}, []string{"web-1"})
	// Partition 2: web-1 and web-0 stay, and are remade at the current revision.
	set.Spec.UpdateStrategy.RollingUpdate.Partition = ptr(int32(2))
	check(t, "partitioned", plan(set, true, old(0), old(1), pod(set, 2, "web-r2", true)), []string{}, []string{})
	a = plan(set, true, old(0), pod(set, 2, "web-r2", true))
	if len(a.Create) != 1 || a.Create[0].Labels[appsv1.ControllerRevisionHashLabelKey] != "web-r1" || a.Create[0].Spec.Containers[0].Image != "img:v1" {
		t.Errorf("web-1 below the partition remade as %v", names(a.Create))
	}
	set.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
	check(t, "OnDelete", plan(set, true, old(0), old(1), old(2)), []string{}, []string{})
}

func TestStartOrdinal(t *testing.T) {
	set := testSet(2, func(s *appsv1.StatefulSet) { s.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: 5} })
	check(t, "empty", plan(set, false), []string{"web-5"}, []string{})
	check(t, "old ordinal 0", plan(set, false, pod(set, 5, "web-r1", true), pod(set, 6, "web-r1", true), pod(set, 0, "web-r1", true)),
		[]string{}, []string{"web-0"})
}

func TestNewPodIdentity(t *testing.T) {
	set := testSet(1, withClaims, func(s *appsv1.StatefulSet) {
		s.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	})
	p := newPod(set, &set.Spec.Template, 3, "web-r1")
	if p.Name != "web-3" || p.Spec.Hostname != "web-3" || p.Spec.Subdomain != "web-svc" || p.Labels["app"] != "web" ||
		p.Labels[appsv1.StatefulSetPodNameLabel] != "web-3" || p.Labels[appsv1.PodIndexLabel] != "3" ||
		p.Labels[appsv1.ControllerRevisionHashLabelKey] != "web-r1" {
		t.Errorf("identity: %s %s.%s %v", p.Name, p.Spec.Hostname, p.Spec.Subdomain, p.Labels)
	}
	if ref := metav1.GetControllerOf(p); ref == nil || ref.Kind != "StatefulSet" || ref.UID != "set-uid" {
		t.Errorf("owner %+v", p.OwnerReferences)
	}
	if v := p.Spec.Volumes; len(v) != 2 || v[0].PersistentVolumeClaim == nil || v[0].PersistentVolumeClaim.ClaimName != "data-web-3" || v[1].Name != "tmp" {
		t.Errorf("volumes %+v", v)
	}
	if c := newClaims(set, 3); len(c) != 1 || c[0].Name != "data-web-3" || c[0].Labels["app"] != "web" {
		t.Errorf("claims %+v", c)
	}
	if len(set.Spec.Template.Labels) != 1 || set.Spec.VolumeClaimTemplates[0].Labels != nil {
		t.Error("the set was changed")
	}
}

func TestClaimRefs(t *testing.T) {
	policy := func(deleted, scaled appsv1.PersistentVolumeClaimRetentionPolicyType) *appsv1.StatefulSet {
		return testSet(1, func(s *appsv1.StatefulSet) {
			s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenDeleted: deleted, WhenScaled: scaled}
		})
	}
	retain, del := appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType
	kinds := func(set *appsv1.StatefulSet, inRange bool) []string {
		out := []string{}
		for _, r := range claimRefs(set, pod(set, 0, "r", true), inRange) {
			out = append(out, r.Kind)
		}
		return out
	}
	cases := []struct {
		set     *appsv1.StatefulSet
		inRange bool
		want    []string
	}{
		{testSet(1), true, []string{}}, {testSet(1), false, []string{}},
		{policy(retain, retain), false, []string{}},
		{policy(del, retain), true, []string{"StatefulSet"}}, {policy(del, retain), false, []string{"StatefulSet"}},
		{policy(retain, del), true, []string{}}, {policy(retain, del), false, []string{"Pod"}},
		{policy(del, del), true, []string{"StatefulSet"}}, {policy(del, del), false, []string{"Pod"}},
	}
	for i, c := range cases {
		if got := kinds(c.set, c.inRange); !slices.Equal(got, c.want) {
			t.Errorf("case %d: %v, want %v", i, got, c.want)
		}
	}
}

func TestStatusCompletesRollingUpdate(t *testing.T) {
	set := testSet(2, func(s *appsv1.StatefulSet) { s.Generation = 4 })
	s := state{set: set, rev: revs(set, true), now: t0,
		pods: []*corev1.Pod{pod(set, 0, "web-r1", true), pod(set, 1, "web-r2", false)}}
	st, _ := computeStatus(s)
	if st.Replicas != 2 || st.ReadyReplicas != 1 || st.AvailableReplicas != 1 || st.CurrentReplicas != 1 || st.UpdatedReplicas != 1 ||
		st.CurrentRevision != "web-r1" || st.UpdateRevision != "web-r2" || st.ObservedGeneration != 4 {
		t.Errorf("mid-update: %s", st.String())
	}
	s.pods = []*corev1.Pod{pod(set, 0, "web-r2", true), pod(set, 1, "web-r2", true)}
	if st, _ := computeStatus(s); st.CurrentRevision != "web-r2" || st.CurrentReplicas != 2 || st.UpdatedReplicas != 2 {
		t.Errorf("done: %s", st.String())
	}
	set.Spec.MinReadySeconds = 3600 + 30
	if st, wait := computeStatus(s); st.AvailableReplicas != 0 || wait != 30*time.Second {
		t.Errorf("minReadySeconds: %s wait %v", st.String(), wait)
	}
}

func TestNoStrategyIsRollingUpdate(t *testing.T) {
	set := testSet(1, func(s *appsv1.StatefulSet) { s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{} })
	s := state{set: set, rev: revs(set, true), now: t0, pods: []*corev1.Pod{pod(set, 0, "web-r1", true)}}
	check(t, "update", Plan(s), []string{}, []string{"web-0"})
	s.pods = []*corev1.Pod{pod(set, 0, "web-r2", true)}
	if st, _ := computeStatus(s); st.CurrentRevision != "web-r2" {
		t.Errorf("status %s", st.String())
	}
}

func TestLostIdentityLabelsAreRestored(t *testing.T) {
	set := testSet(2)
	bare := pod(set, 1, "web-r1", true)
	delete(bare.Labels, appsv1.PodIndexLabel)
	a := plan(set, false, pod(set, 0, "web-r1", true), bare)
	if len(a.Relabel) != 1 || a.Relabel[0].Labels[appsv1.PodIndexLabel] != "1" || a.Relabel[0].Labels[appsv1.StatefulSetPodNameLabel] != "web-1" {
		t.Fatalf("relabel %v", names(a.Relabel))
	}
	if _, ok := bare.Labels[appsv1.PodIndexLabel]; ok {
		t.Error("the cached pod was changed")
	}
}
