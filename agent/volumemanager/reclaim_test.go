package volumemanager

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stypes "k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"

	"github.com/nodeagent/nodeagent/api/localvolume"
	"github.com/nodeagent/nodeagent/volumes"
	"github.com/nodeagent/nodeagent/volumes/localdriver"
)

// deleteVolume marks the volume Terminating in the control plane, as the
// persistentvolume controller's delete leaves one that has finalizers.
func (n *node) deleteVolume(name string, policy corev1.PersistentVolumeReclaimPolicy) {
	n.t.Helper()
	pv := n.volume(name)
	now := metav1.Now()
	pv.DeletionTimestamp = &now
	pv.Spec.PersistentVolumeReclaimPolicy = policy
	if _, err := n.api.CoreV1().PersistentVolumes().Update(context.Background(), pv, metav1.UpdateOptions{}); err != nil {
		n.t.Fatal(err)
	}
}

func (n *node) backing(handle string) string {
	return filepath.Join(n.root, "volumes-backing", handle+".img")
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// stagedAndGone stages the claim's volume for a pod, then tears the pod
// down (the volume is unstaged).
func (n *node) stagedAndGone(m *Manager, claim string, pv *corev1.PersistentVolume, uid string) {
	n.t.Helper()
	ctx := context.Background()
	n.bind(claim, pv)
	if _, err := m.WaitForMount(ctx, claimPod(uid, claim)); err != nil {
		n.t.Fatal(err)
	}
	if err := m.TearDownPod(ctx, k8stypes.UID(uid)); err != nil {
		n.t.Fatal(err)
	}
}

// TestReclaimDelete: once the volume of a backing file is deleted (it
// stays Terminating on the finalizer) and no pod uses it, the file is
// removed, then the finalizer; while a pod uses it, nothing is done.
func TestReclaimDelete(t *testing.T) {
	n := newNode(t)
	ctx := context.Background()
	m := n.manager()
	m.SetSourcesReady()
	pv := filePV("pv-1", false)
	pv.Finalizers = []string{"kubernetes.io/pv-protection"}
	n.bind("claim", pv)
	pod := claimPod("u1", "claim")
	if _, err := m.WaitForMount(ctx, pod); err != nil {
		t.Fatal(err)
	}
	n.deleteVolume("pv-1", corev1.PersistentVolumeReclaimDelete)
	n.clock.Step(time.Minute)
	m.pass(ctx)
	if !exists(n.backing("pv-1")) || !hasBackingFinalizer(n.volume("pv-1")) {
		t.Fatal("the file of a volume in use was reclaimed")
	}
	if err := m.TearDownPod(ctx, pod.UID); err != nil { // unstaged: looked at at once
		t.Fatal(err)
	}
	if exists(n.backing("pv-1")) {
		t.Fatal("the backing file stays after the unstage")
	}
	if pv := n.volume("pv-1"); hasBackingFinalizer(pv) || !slices.Contains(pv.Finalizers, "kubernetes.io/pv-protection") {
		t.Fatalf("finalizers %v: want only the backing file's removed", pv.Finalizers)
	}
	if held, _ := filepath.Glob(filepath.Join(n.root, "volumes-backing", "*")); len(held) != 0 {
		t.Fatalf("left in the backing directory: %v", held)
	}
	n.assertNothingLeft()
}

// TestReclaimLeavesFilesAlone: Retain keeps the file (the finalizer goes);
// a volume that is gone, lives on another node, is not being deleted or
// has no finalizer keeps its file and is not written to.
func TestReclaimLeavesFilesAlone(t *testing.T) {
	n := newNode(t)
	ctx := context.Background()
	m := n.manager()
	m.SetSourcesReady()
	for i, name := range []string{"retain", "gone", "moved", "alive", "nofin"} {
		n.stagedAndGone(m, "c-"+name, filePV(name, false), "u"+string(rune('0'+i)))
	}
	n.deleteVolume("retain", corev1.PersistentVolumeReclaimRetain)
	if err := n.api.CoreV1().PersistentVolumes().Delete(ctx, "gone", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	moved := n.volume("moved")
	moved.Spec.NodeAffinity = localvolume.NodeAffinity("other")
	if _, err := n.api.CoreV1().PersistentVolumes().Update(ctx, moved, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	n.deleteVolume("moved", corev1.PersistentVolumeReclaimDelete)
	nofin := n.volume("nofin")
	nofin.Finalizers = nil
	if _, err := n.api.CoreV1().PersistentVolumes().Update(ctx, nofin, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	n.deleteVolume("nofin", corev1.PersistentVolumeReclaimDelete)
	var updates []string
	n.api.PrependReactor("update", "persistentvolumes", func(a k8stesting.Action) (bool, runtime.Object, error) {
		updates = append(updates, a.(k8stesting.UpdateAction).GetObject().(*corev1.PersistentVolume).Name)
		return false, nil, nil
	})
	n.clock.Step(time.Hour)
	m.pass(ctx)
	for _, name := range []string{"retain", "gone", "moved", "alive", "nofin"} {
		if !exists(n.backing(name)) {
			t.Errorf("the backing file of %s was removed", name)
		}
	}
	if len(updates) != 1 || updates[0] != "retain" || hasBackingFinalizer(n.volume("retain")) {
		t.Fatalf("updates %v: want only the retained volume's finalizer removed", updates)
	}
}

// TestReclaimSurvivesACrash: the file is removed but the finalizer cannot
// be (the agent dies, or the update fails): its removal marker keeps the
// volume looked at, and a later pass (of a restarted manager) removes the
// finalizer and the marker.
func TestReclaimSurvivesACrash(t *testing.T) {
	n := newNode(t)
	ctx := context.Background()
	m := n.manager()
	m.SetSourcesReady()
	n.stagedAndGone(m, "claim", filePV("pv-1", false), "u1")
	n.deleteVolume("pv-1", corev1.PersistentVolumeReclaimDelete)
	fail := true
	n.api.PrependReactor("update", "persistentvolumes", func(k8stesting.Action) (bool, runtime.Object, error) {
		if fail {
			return true, nil, errors.New("connection refused")
		}
		return false, nil, nil
	})
	n.clock.Step(time.Minute)
	m.pass(ctx)
	marker := filepath.Join(n.root, "volumes-backing", "pv-1.removing")
	if exists(n.backing("pv-1")) || !exists(marker) || !hasBackingFinalizer(n.volume("pv-1")) {
		t.Fatalf("file %v, marker %v, finalizer %v: want the data gone, the marker and the finalizer there",
			exists(n.backing("pv-1")), exists(marker), hasBackingFinalizer(n.volume("pv-1")))
	}
	if st, _ := os.Stat(marker); st.Size() != 0 {
		t.Fatalf("the marker holds %d bytes of the volume's data", st.Size())
	}
	fail = false
	m = n.manager() // restarted
	m.SetSourcesReady()
	m.pass(ctx)
	if exists(marker) || hasBackingFinalizer(n.volume("pv-1")) {
		t.Fatal("the reclaim was not finished after the restart")
	}
}

// TestReclaimSchedule: a held file's volume is looked at at once after an
// unstage, then after 1, 2, 4 ... s, and every ReclaimPeriod at most;
// never before every pod here is known.
func TestReclaimSchedule(t *testing.T) {
	n := newNode(t)
	ctx := context.Background()
	gets := 0
	n.api.PrependReactor("get", "persistentvolumes", func(k8stesting.Action) (bool, runtime.Object, error) {
		gets++
		return false, nil, nil
	})
	m := n.manager()
	n.stagedAndGone(m, "claim", filePV("pv-1", false), "u1")
	base := gets
	m.pass(ctx)
	if gets != base {
		t.Fatalf("%d looks before the sources were ready", gets-base)
	}
	m.SetSourcesReady()
	var at []time.Duration
	start := n.clock.Now()
	for range 120 {
		before := gets
		m.pass(ctx)
		if gets > before {
			at = append(at, n.clock.Since(start))
		}
		n.clock.Step(time.Second)
	}
	want := []time.Duration{0, 1, 3, 7, 15, 31, 61, 91}
	for i := range want {
		want[i] *= time.Second
	}
	if !slices.Equal(at, want) {
		t.Fatalf("looked at at %v, want %v", at, want)
	}
}

func TestDecideReclaim(t *testing.T) {
	now := metav1.Now()
	pv := func(mod func(*corev1.PersistentVolume)) *corev1.PersistentVolume {
		p := filePV("pv-1", false)
		p.DeletionTimestamp = &now
		p.Finalizers = []string{localvolume.BackingFinalizer}
		mod(p)
		return p
	}
	same := func(*corev1.PersistentVolume) {}
	held, removing := volumes.HeldFile{Handle: "pv-1"}, volumes.HeldFile{Handle: "pv-1", Removing: true}
	deleteAll := reclaimPlan{removeFile: true, removeFinalizer: true, finish: true}
	for _, tc := range []struct {
		name  string
		f     volumes.HeldFile
		pv    *corev1.PersistentVolume
		inUse bool
		want  reclaimPlan
	}{
		{"delete", held, pv(same), false, deleteAll},
		{"in use", held, pv(same), true, reclaimPlan{}},
		{"retain", held, pv(func(p *corev1.PersistentVolume) {
			p.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
		}), false,
			reclaimPlan{removeFinalizer: true}},
		{"recycle", held, pv(func(p *corev1.PersistentVolume) {
			p.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRecycle
		}), false,
			reclaimPlan{removeFinalizer: true}},
		{"gone", held, nil, false, reclaimPlan{}},
		{"not deleted", held, pv(func(p *corev1.PersistentVolume) { p.DeletionTimestamp = nil }), false, reclaimPlan{}},
		{"no finalizer", held, pv(func(p *corev1.PersistentVolume) { p.Finalizers = nil }), false, reclaimPlan{}},
		{"another node", held, pv(func(p *corev1.PersistentVolume) { p.Spec.NodeAffinity = localvolume.NodeAffinity("other") }), false, reclaimPlan{}},
		{"no node", held, pv(func(p *corev1.PersistentVolume) { p.Spec.NodeAffinity = nil }), false, reclaimPlan{}},
		{"another handle", held, pv(func(p *corev1.PersistentVolume) { p.Spec.CSI.VolumeHandle = "pv-2" }), false, reclaimPlan{}},
		{"another driver", held, pv(func(p *corev1.PersistentVolume) { p.Spec.CSI.Driver = "ebs" }), false, reclaimPlan{}},
		{"removing, finalizer there", removing, pv(same), false, deleteAll},
		{"removing, volume gone", removing, nil, false, reclaimPlan{finish: true}},
		{"removing, finalizer gone", removing, pv(func(p *corev1.PersistentVolume) { p.Finalizers = nil }), false, reclaimPlan{finish: true}},
	} {
		if got := decideReclaim(tc.f, tc.pv, localdriver.Name, testNode, tc.inUse); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
