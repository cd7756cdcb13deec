package deployment

import (
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// A new Deployment gets one ReplicaSet named and labelled by the template
// hash, revision 1, sized at once; its status and conditions say the
// rollout finished once the pods are available.
func TestCreate(t *testing.T) {
	d := newDeployment("web", 3)
	h := newHarness(t, d)
	h.step("web")
	sets := h.sets()
	if len(sets) != 1 {
		t.Fatalf("%d replicasets", len(sets))
	}
	rs := sets[0]
	hash := ComputeHash(&d.Spec.Template, nil)
	ref := metav1.GetControllerOf(&rs)
	switch {
	case rs.Name != "web-"+hash, rs.Labels[HashLabel] != hash, rs.Spec.Selector.MatchLabels[HashLabel] != hash,
		rs.Spec.Template.Labels[HashLabel] != hash, rs.Spec.Template.Labels["app"] != "web":
		t.Errorf("replicaset %s labels %v selector %v template %v", rs.Name, rs.Labels, rs.Spec.Selector, rs.Spec.Template.Labels)
	case ref == nil || ref.Kind != "Deployment" || ref.UID != d.UID:
		t.Errorf("owner %+v", ref)
	case rsReplicas(&rs) != 3 || rs.Annotations[RevisionAnnotation] != "1" || rs.Annotations[DesiredReplicasAnnotation] != "3" ||
		rs.Annotations[MaxReplicasAnnotation] != "4":
		t.Errorf("replicas %d annotations %v", rsReplicas(&rs), rs.Annotations)
	}
	if ev := <-h.events.Events; ev != fmt.Sprintf("Normal ScalingReplicaSet Scaled up replica set %s from 0 to 3", rs.Name) {
		t.Errorf("event %q", ev)
	}
	got := h.deployment("web")
	if got.Annotations[RevisionAnnotation] != "1" {
		t.Errorf("deployment annotations %v", got.Annotations)
	}
	if c := condition(got.Status, appsv1.DeploymentProgressing); c == nil || c.Reason != NewRSReason ||
		c.Message != fmt.Sprintf("Created new replica set %q", rs.Name) {
		t.Errorf("progressing %+v", c)
	}
	h.settle("web")
	got = h.deployment("web")
	st := got.Status
	if st.Replicas != 3 || st.UpdatedReplicas != 3 || st.ReadyReplicas != 3 || st.AvailableReplicas != 3 || st.UnavailableReplicas != 0 || st.ObservedGeneration != 1 {
		t.Errorf("status %+v", st)
	}
	if c := condition(st, appsv1.DeploymentAvailable); c == nil || c.Status != "True" || c.Reason != MinimumReplicasAvailable {
		t.Errorf("available %+v", c)
	}
	if c := condition(st, appsv1.DeploymentProgressing); c == nil || c.Status != "True" || c.Reason != NewRSAvailableReason ||
		c.Message != fmt.Sprintf("ReplicaSet %q has successfully progressed.", rs.Name) {
		t.Errorf("progressing %+v", c)
	}
}

// Every step of a rolling update keeps the total within replicas+maxSurge
// (rounded up) and the available pods at least replicas-maxUnavailable
// (rounded down), reaches both bounds, and kubectl rollout status is not
// done before the new pods are all available and the old ones gone.
func TestRollingUpdateBounds(t *testing.T) {
	for _, tc := range []struct {
		replicas                   int32
		surge, unavailable         intstr.IntOrString
		wantSurge, wantUnavailable int32
	}{
		{10, intstr.FromString("25%"), intstr.FromString("25%"), 3, 2},
		{5, intstr.FromInt32(1), intstr.FromInt32(0), 1, 0},
		{4, intstr.FromInt32(0), intstr.FromInt32(1), 0, 1},
		{3, intstr.FromString("50%"), intstr.FromString("0%"), 2, 0},
		{2, intstr.FromInt32(0), intstr.FromInt32(0), 0, 1},
	} {
		t.Run(fmt.Sprintf("%d-%s-%s", tc.replicas, tc.surge.String(), tc.unavailable.String()), func(t *testing.T) {
			h := newHarness(t, rolling(newDeployment("web", tc.replicas), tc.surge, tc.unavailable))
			h.settle("web")
			h.edit("web", func(d *appsv1.Deployment) { // kubectl rollout restart
				d.Spec.Template.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "now"}
			})
			h.step("web")
			newRS := h.sets()[1].Name
			h.ready[newRS] = 0
			most, least := int32(0), tc.replicas
			for i := 0; ; i++ {
				h.simulate()
				var total, available int32
				for _, rs := range h.sets() {
					total += rsReplicas(&rs)
					available += rs.Status.AvailableReplicas
				}
				if total > tc.replicas+tc.wantSurge || available < tc.replicas-tc.wantUnavailable {
					t.Fatalf("step %d: %s", i, h.sizes())
				}
				most, least = max(most, total), min(least, available)
				msg, done := kubectlRolloutStatus(h.deployment("web"))
				sets := h.sets()
				finished := len(sets) == 2 && rsReplicas(&sets[0]) == 0 && sets[0].Status.Replicas == 0 &&
					sets[1].Status.AvailableReplicas == tc.replicas
				if done && !finished {
					t.Fatalf("step %d: rollout status %q with %s", i, msg, h.sizes())
				}
				if done {
					break
				}
				if i > 50 {
					t.Fatalf("no progress: %s", h.sizes())
				}
				h.step("web")
				h.ready[newRS]++ // one more new pod ready every step
			}
			if most != tc.replicas+tc.wantSurge || least != tc.replicas-tc.wantUnavailable {
				t.Errorf("total reached %d, available fell to %d", most, least)
			}
			d := h.deployment("web")
			if d.Annotations[RevisionAnnotation] != "2" || h.sets()[1].Annotations[RevisionAnnotation] != "2" {
				t.Errorf("revision %v", d.Annotations)
			}
		})
	}
}

// Recreate scales the old ReplicaSet to 0 and creates the new one only
// once no old pod runs.
func TestRecreate(t *testing.T) {
	d := newDeployment("web", 2)
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	h := newHarness(t, d)
	h.settle("web")
	old := h.sets()[0]
	pod := oldPod(old)
	if _, err := h.client.CoreV1().Pods("default").Create(h.ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.edit("web", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "img:2" })
	h.step("web")
	h.step("web")
	sets := h.sets()
	if len(sets) != 1 || rsReplicas(&sets[0]) != 0 {
		t.Fatalf("with an old pod running: %s", h.sizes())
	}
	if err := h.client.CoreV1().Pods("default").Delete(h.ctx, pod.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPods(t, h, 0)
	h.settle("web")
	sets = h.sets()
	if len(sets) != 2 || rsReplicas(&sets[1]) != 2 || rsReplicas(&sets[0]) != 0 {
		t.Fatalf("after: %s", h.sizes())
	}
}

// kubectl rollout undo copies the old ReplicaSet's template back: that
// ReplicaSet becomes the new one with the next revision, remembering its
// first in revision-history; no ReplicaSet is created.
func TestRollbackByTemplate(t *testing.T) {
	h := newHarness(t, newDeployment("web", 2))
	h.settle("web")
	h.edit("web", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "img:2" })
	h.settle("web")
	first := h.sets()[0]
	h.edit("web", func(d *appsv1.Deployment) {
		d.Spec.Template = *first.Spec.Template.DeepCopy()
		delete(d.Spec.Template.Labels, HashLabel)
	})
	h.settle("web")
	sets := h.sets()
	if len(sets) != 2 {
		t.Fatalf("%d replicasets: %s", len(sets), h.sizes())
	}
	back := sets[0]
	if back.Name != first.Name || rsReplicas(&back) != 2 || back.Annotations[RevisionAnnotation] != "3" ||
		back.Annotations[RevisionHistoryAnnotation] != "1" || rsReplicas(&sets[1]) != 0 {
		t.Errorf("%s annotations %v", h.sizes(), back.Annotations)
	}
	if rev := h.deployment("web").Annotations[RevisionAnnotation]; rev != "3" {
		t.Errorf("deployment revision %q", rev)
	}
}

// A paused Deployment does not roll, is still scaled, and notes the pause
// and the resume in Progressing.
func TestPaused(t *testing.T) {
	h := newHarness(t, newDeployment("web", 2))
	h.settle("web")
	h.edit("web", func(d *appsv1.Deployment) {
		d.Spec.Paused = true
		d.Spec.Template.Spec.Containers[0].Image = "img:2"
	})
	h.step("web")
	h.step("web")
	if c := condition(h.deployment("web").Status, appsv1.DeploymentProgressing); c == nil || c.Reason != PausedReason || c.Status != "Unknown" {
		t.Errorf("progressing %+v", c)
	}
	h.edit("web", func(d *appsv1.Deployment) { d.Spec.Replicas = ptr(int32(4)) })
	h.step("web")
	if sets := h.sets(); len(sets) != 1 || rsReplicas(&sets[0]) != 4 {
		t.Fatalf("paused: %s", h.sizes())
	}
	h.edit("web", func(d *appsv1.Deployment) { d.Spec.Paused = false })
	h.step("web")
	if c := condition(h.deployment("web").Status, appsv1.DeploymentProgressing); c == nil || c.Reason == PausedReason {
		t.Errorf("progressing after resume %+v", c)
	}
	h.settle("web")
	if sets := h.sets(); len(sets) != 2 || rsReplicas(&sets[1]) != 4 || sets[1].Spec.Template.Spec.Containers[0].Image != "img:2" {
		t.Fatalf("resumed: %s", h.sizes())
	}
}

// Old ReplicaSets beyond revisionHistoryLimit are deleted, lowest revision
// first.
func TestRevisionHistoryLimit(t *testing.T) {
	d := newDeployment("web", 1)
	d.Spec.RevisionHistoryLimit = ptr(int32(1))
	h := newHarness(t, d)
	h.settle("web")
	for i := 2; i <= 4; i++ {
		h.edit("web", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = fmt.Sprintf("img:%d", i) })
		h.settle("web")
		h.step("web")
	}
	var revs []string
	for _, rs := range h.sets() {
		revs = append(revs, rs.Annotations[RevisionAnnotation])
	}
	if strings.Join(revs, ",") != "3,4" {
		t.Errorf("revisions left %v", revs)
	}
}

// Scaling mid-rollout shares the change out in proportion (kube's own
// example: 8 old and 5 new of 10+3, scaled to 15, become 11 and 7).
func TestProportionalScaling(t *testing.T) {
	d := rolling(newDeployment("web", 10), intstr.FromInt32(3), intstr.FromInt32(2))
	h := newHarness(t, d)
	h.settle("web")
	h.edit("web", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "img:2" })
	h.step("web")
	newRS := h.sets()[1].Name
	h.ready[newRS] = 0
	for range 5 {
		h.step("web")
	}
	sets := h.sets()
	if rsReplicas(&sets[0]) != 8 || rsReplicas(&sets[1]) != 5 {
		t.Fatalf("stuck rollout: %s", h.sizes())
	}
	h.edit("web", func(d *appsv1.Deployment) { d.Spec.Replicas = ptr(int32(15)) })
	h.step("web")
	sets = h.sets()
	if rsReplicas(&sets[0]) != 11 || rsReplicas(&sets[1]) != 7 {
		t.Fatalf("scaled: %s", h.sizes())
	}
	h.edit("web", func(d *appsv1.Deployment) { d.Spec.Replicas = ptr(int32(5)) })
	h.step("web")
	sets = h.sets()
	if total := rsReplicas(&sets[0]) + rsReplicas(&sets[1]); total != 5+3 {
		t.Fatalf("scaled down: %s", h.sizes())
	}
	delete(h.ready, newRS)
	h.settle("web")
}

// A rollout that stops moving for progressDeadlineSeconds is marked
// ProgressDeadlineExceeded.
func TestProgressDeadline(t *testing.T) {
	d := newDeployment("web", 2)
	d.Spec.ProgressDeadlineSeconds = ptr(int32(60))
	h := newHarness(t, d)
	h.settle("web")
	h.edit("web", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "img:2" })
	h.step("web")
	h.ready[h.sets()[1].Name] = 0
	for range 3 {
		h.step("web")
	}
	h.clock.Step(61 * 1e9)
	h.step("web")
	c := condition(h.deployment("web").Status, appsv1.DeploymentProgressing)
	if c == nil || c.Status != "False" || c.Reason != TimedOutReason {
		t.Fatalf("progressing %+v", c)
	}
	if msg, done := kubectlRolloutStatus(h.deployment("web")); !done || msg != "exceeded its progress deadline" {
		t.Errorf("rollout status %q", msg)
	}
}

func ptr[T any](v T) *T { return &v }

// Old pods that are not available go first: with maxSurge 0 and two of
// four old pods broken, the rollout still goes on (scaling the old
// ReplicaSet down by its available pods alone would stop at once).
func TestUnhealthyOldReplicasGoFirst(t *testing.T) {
	h := newHarness(t, rolling(newDeployment("web", 4), intstr.FromInt32(0), intstr.FromInt32(1)))
	h.settle("web")
	h.ready[h.sets()[0].Name] = 2
	h.step("web")
	h.edit("web", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "img:2" })
	h.step("web")
	if sets := h.sets(); rsReplicas(&sets[0]) != 3 {
		t.Fatalf("first step: %s", h.sizes())
	}
	h.settle("web")
}
