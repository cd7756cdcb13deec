package daemonset

import (
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	clocktesting "k8s.io/utils/clock/testing"
)

// cluster builds a state: nodes n1..nN, each with the given pods.
func cluster(ds *appsv1.DaemonSet, hash string, n int, pods ...*corev1.Pod) state {
	s := state{ds: ds, hash: hash, byNode: map[string][]*corev1.Pod{}, now: t0.Add(time.Minute)}
	for i := 1; i <= n; i++ {
		s.nodes = append(s.nodes, testNode("n"+string(rune('0'+i))))
	}
	for _, p := range pods {
		s.byNode[p.Spec.NodeName] = append(s.byNode[p.Spec.NodeName], p)
	}
	return s
}

func TestManageCreatesOnNodesWithoutPodAndDeletesElsewhere(t *testing.T) {
	ds := testDS()
	s := cluster(ds, "h1", 3, daemonPod(ds, "n1", "h1", true))
	s.nodes[2] = testNode("n3", taint("dedicated", corev1.TaintEffectNoExecute))
	s.byNode["n3"] = []*corev1.Pod{daemonPod(ds, "n3", "h1", true)}
	gone := daemonPod(ds, "n9", "h1", false)
	gone.Spec.NodeName = ""
	s.byNode["n9"] = []*corev1.Pod{gone}
	a := Plan(s)
	if !slices.Equal(a.Create, []string{"n2"}) || !slices.Equal(names(a.Delete), []string{"agent-n3-h1", "agent-n9-h1"}) {
		t.Errorf("create %v delete %v", a.Create, names(a.Delete))
	}
}

func TestManageReplacesFailedPodAndKeepsOldestOfTwo(t *testing.T) {
	ds := testDS()
	failed := daemonPod(ds, "n1", "h1", false)
	failed.Status.Phase = corev1.PodFailed
	older, newer := daemonPod(ds, "n2", "h1", true), daemonPod(ds, "n2", "h1", true)
	newer.Name, newer.CreationTimestamp = "agent-n2-newer", metav1.NewTime(t0.Add(time.Second))
	a := Plan(cluster(ds, "h1", 2, failed, newer, older))
	if len(a.Create) != 0 || !slices.Equal(names(a.Delete), []string{"agent-n1-h1", "agent-n2-newer"}) {
		t.Errorf("create %v delete %v", a.Create, names(a.Delete))
	}
}

func TestRollingUpdateWithinMaxUnavailable(t *testing.T) {
	ds := testDS()
	old := func(node string) *corev1.Pod { return daemonPod(ds, node, "h1", true) }
	// Three old available pods, maxUnavailable 1: one goes.
	a := Plan(cluster(ds, "h2", 3, old("n1"), old("n2"), old("n3")))
	if len(a.Create) != 0 || !slices.Equal(names(a.Delete), []string{"agent-n1-h1"}) {
		t.Errorf("first step: create %v delete %v", a.Create, names(a.Delete))
	}
	// n1 has a new pod, not yet ready: nothing more goes.
	a = Plan(cluster(ds, "h2", 3, daemonPod(ds, "n1", "h2", false), old("n2"), old("n3")))
	if !a.Empty() {
		t.Errorf("while n1 is unavailable: create %v delete %v", a.Create, names(a.Delete))
	}
	// n1 is ready: the next goes. An unavailable old pod goes regardless.
	broken := daemonPod(ds, "n3", "h1", false)
	a = Plan(cluster(ds, "h2", 3, daemonPod(ds, "n1", "h2", true), old("n2"), broken))
	if !slices.Equal(names(a.Delete), []string{"agent-n3-h1", "agent-n2-h1"}) {
		t.Errorf("after n1: delete %v", names(a.Delete))
	}
	// 50% of 3 rounds up to 2.
	ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr(intstr.FromString("50%"))
	a = Plan(cluster(ds, "h2", 3, old("n1"), old("n2"), old("n3")))
	if len(a.Delete) != 2 {
		t.Errorf("50%%: delete %v", names(a.Delete))
	}
}

func TestRollingUpdateMinReadySeconds(t *testing.T) {
	ds := testDS(func(ds *appsv1.DaemonSet) { ds.Spec.MinReadySeconds = 120 })
	old := daemonPod(ds, "n2", "h1", true)
	old.Status.Conditions[0].LastTransitionTime = metav1.NewTime(t0.Add(-time.Hour))
	// The new pod on n1 has been ready 60s of the 120 needed.
	a := Plan(cluster(ds, "h2", 2, daemonPod(ds, "n1", "h2", true), old))
	if !a.Empty() {
		t.Errorf("before minReadySeconds: delete %v", names(a.Delete))
	}
	s := cluster(ds, "h2", 2, daemonPod(ds, "n1", "h2", true), old)
	s.now = t0.Add(2 * time.Minute)
	if a := Plan(s); !slices.Equal(names(a.Delete), []string{"agent-n2-h1"}) {
		t.Errorf("after minReadySeconds: delete %v", names(a.Delete))
	}
}

func TestRollingUpdateWithSurge(t *testing.T) {
	ds := testDS(func(ds *appsv1.DaemonSet) {
		ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr(intstr.FromInt32(0)), MaxSurge: ptr(intstr.FromInt32(1))}
	})
	old := func(node string) *corev1.Pod { return daemonPod(ds, node, "h1", true) }
	a := Plan(cluster(ds, "h2", 2, old("n1"), old("n2")))
	if !slices.Equal(a.Create, []string{"n1"}) || len(a.Delete) != 0 {
		t.Errorf("first step: create %v delete %v", a.Create, names(a.Delete))
	}
	// The new pod on n1 is not ready yet: both stay, nothing else surges.
	a = Plan(cluster(ds, "h2", 2, old("n1"), daemonPod(ds, "n1", "h2", false), old("n2")))
	if !a.Empty() {
		t.Errorf("while surging: create %v delete %v", a.Create, names(a.Delete))
	}
	// It is available: the old one on n1 goes (the manage step sees it).
	a = Plan(cluster(ds, "h2", 2, old("n1"), daemonPod(ds, "n1", "h2", true), old("n2")))
	if len(a.Create) != 0 || !slices.Equal(names(a.Delete), []string{"agent-n1-h1"}) {
		t.Errorf("after surge: create %v delete %v", a.Create, names(a.Delete))
	}
}

func TestOnDeleteDoesNotReplace(t *testing.T) {
	ds := testDS(func(ds *appsv1.DaemonSet) {
		ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
	})
	a := Plan(cluster(ds, "h2", 2, daemonPod(ds, "n1", "h1", true)))
	if !slices.Equal(a.Create, []string{"n2"}) || len(a.Delete) != 0 {
		t.Errorf("create %v delete %v", a.Create, names(a.Delete))
	}
}

func TestStatus(t *testing.T) {
	ds := testDS(func(ds *appsv1.DaemonSet) { ds.Spec.MinReadySeconds = 90; ds.Generation = 3 })
	s := cluster(ds, "h2", 4, daemonPod(ds, "n1", "h2", true), daemonPod(ds, "n2", "h1", true), daemonPod(ds, "n3", "h2", false))
	s.nodes = append(s.nodes, testNode("n5", taint("x", corev1.TaintEffectNoExecute)))
	s.byNode["n5"] = []*corev1.Pod{daemonPod(ds, "n5", "h2", true)}
	s.now = t0.Add(time.Minute)
	st, wait := computeStatus(s)
	want := appsv1.DaemonSetStatus{ObservedGeneration: 3, DesiredNumberScheduled: 4, CurrentNumberScheduled: 3, NumberReady: 2,
		NumberAvailable: 0, UpdatedNumberScheduled: 2, NumberMisscheduled: 1, NumberUnavailable: 4}
	if st.String() != want.String() || wait != 30*time.Second {
		t.Errorf("got %s wait %v\nwant %s", st.String(), wait, want.String())
	}
	s.now = t0.Add(2 * time.Minute)
	if st, wait := computeStatus(s); st.NumberAvailable != 2 || st.NumberUnavailable != 2 || wait != 0 {
		t.Errorf("later: %s wait %v", st.String(), wait)
	}
}

func TestFailedPodsBackOff(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	c := &Controller{failed: newFailedBackoff(clk), clock: clk, events: record.NewFakeRecorder(100),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Clock: clk})}
	t.Cleanup(c.queue.ShutDown)
	ds := testDS()
	failed := daemonPod(ds, "n1", "h1", false)
	failed.Status.Phase = corev1.PodFailed
	other := daemonPod(ds, "n2", "h1", true)
	step := func(what string, want ...*corev1.Pod) {
		t.Helper()
		if got := c.holdFailed("default/agent", ds, []*corev1.Pod{failed, other}); !slices.Equal(names(got), names(want)) {
			t.Errorf("%s: deleted %v, want %v", what, names(got), names(want))
		}
	}
	step("first failure", failed, other)
	step("again at once", other)
	clk.Step(1500 * time.Millisecond)
	step("after 1.5s", failed, other)
	clk.Step(1500 * time.Millisecond)
	step("after 1.5s more (backoff now 2s)", other)
	clk.Step(time.Second)
	step("after 2.5s", failed, other)
}

// A template that names a node (spec.nodeName) runs on that node only, as
// kube's NodeShouldRunDaemonPod: every pod made from it is bound there, so
// a pod "for" another node would land beside the first, be deleted as an
// extra, and be made again on every sync.
func TestTemplateNodeNameRunsOnThatNodeOnly(t *testing.T) {
	ds := testDS(func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.NodeName = "n2" })
	a := Plan(cluster(ds, "h1", 3))
	if !slices.Equal(a.Create, []string{"n2"}) || len(a.Delete) != 0 {
		t.Fatalf("create %v delete %v, want create [n2]", a.Create, names(a.Delete))
	}
	if a := Plan(cluster(ds, "h1", 3, daemonPod(ds, "n2", "h1", true))); !a.Empty() {
		t.Errorf("with the pod on n2: create %v delete %v, want nothing", a.Create, names(a.Delete))
	}
	s := cluster(ds, "h1", 3)
	if st, _ := computeStatus(s); st.DesiredNumberScheduled != 1 {
		t.Errorf("desiredNumberScheduled %d, want 1", st.DesiredNumberScheduled)
	}
}
