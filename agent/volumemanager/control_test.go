package volumemanager

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/nodeagent/nodeagent/api/localvolume"
	"github.com/nodeagent/nodeagent/volumes/localdriver"
)

const testNode = "node-1"

// bind binds the claim to pv (the source's lookup) and puts pv in the
// control plane, attached to the test's node as the attach/detach
// controller leaves a local volume that a pod here uses.
func (n *node) bind(claim string, pv *corev1.PersistentVolume) {
	n.t.Helper()
	n.putVolume(pv)
	if pv.Spec.CSI != nil {
		n.attach(pv, true)
	}
	n.src.bind(claim, pv)
}

func (n *node) putVolume(pv *corev1.PersistentVolume) {
	n.t.Helper()
	ctx := context.Background()
	if _, err := n.api.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
		n.t.Fatal(err)
	}
}

// attach makes (or updates) the volume's attachment to the test's node.
func (n *node) attach(pv *corev1.PersistentVolume, attached bool) {
	n.t.Helper()
	ctx := context.Background()
	name := localvolume.AttachmentName(pv.Spec.CSI.VolumeHandle, pv.Spec.CSI.Driver, testNode)
	va := &storagev1.VolumeAttachment{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: storagev1.VolumeAttachmentSpec{
		Attacher: pv.Spec.CSI.Driver, NodeName: testNode, Source: storagev1.VolumeAttachmentSource{PersistentVolumeName: &pv.Name}},
		Status: storagev1.VolumeAttachmentStatus{Attached: attached}}
	vas := n.api.StorageV1().VolumeAttachments()
	if _, err := vas.Get(ctx, name, metav1.GetOptions{}); err == nil {
		_, err = vas.Update(ctx, va, metav1.UpdateOptions{})
		if err != nil {
			n.t.Fatal(err)
		}
		return
	}
	if _, err := vas.Create(ctx, va, metav1.CreateOptions{}); err != nil {
		n.t.Fatal(err)
	}
}

// volume is the control plane's copy of a volume.
func (n *node) volume(name string) *corev1.PersistentVolume {
	n.t.Helper()
	pv, err := n.api.CoreV1().PersistentVolumes().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		n.t.Fatal(err)
	}
	return pv
}

// TestStageWaitsForTheAttachment: a volume whose VolumeAttachment is not
// there, or not attached yet (an attach error included), is not staged:
// no backing file, no loop device; the pod's volumes are not ready with
// why, and no FailedMount event is recorded (the controller reports it);
// the manager looks again soon (Run's WaitPeriod), and stages the volume
// once the attachment says attached. A driver whose CSIDriver says
// attachRequired: false needs none.
func TestStageWaitsForTheAttachment(t *testing.T) {
	n := newNode(t)
	pv := filePV("pv-1", false)
	n.putVolume(pv)
	n.src.bind("claim", pv)
	m := n.manager()
	ctx := context.Background()
	pod := claimPod("u1", "claim")
	backing := filepath.Join(n.root, "volumes-backing", "pv-1.img")
	notReady := func(want string) {
		t.Helper()
		_, err := m.WaitForMount(ctx, pod)
		if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), want) {
			t.Fatalf("WaitForMount: %v, want %q", err, want)
		}
		if _, err := os.Stat(backing); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("a backing file before the attachment: %v", err)
		}
		if l, _ := n.loop.List(); len(l) != 0 {
			t.Fatalf("loop devices before the attachment: %v", l)
		}
		if !m.waiting() {
			t.Fatal("the manager does not know it waits")
		}
	}
	notReady(`volume "pv-1" is not attached to node "node-1" yet: VolumeAttachment csi-`)
	n.attach(pv, false)
	n.clock.Step(maxWaitBackoff)
	notReady(`volume "pv-1" is not attached to node "node-1" yet`)
	va := n.attachment(pv)
	va.Status.AttachError = &storagev1.VolumeError{Message: `volume "pv-1" lives on node "other" and cannot be attached to node "node-1"`}
	n.updateAttachment(va)
	n.clock.Step(maxWaitBackoff)
	notReady(`cannot be attached to node "node-1"`)
	for len(n.events.Events) > 0 {
		if ev := <-n.events.Events; strings.Contains(ev, "FailedMount") {
			t.Fatalf("a FailedMount event while waiting for the attachment: %q", ev)
		}
	}

	n.attach(pv, true)
	m.pass(ctx) // within the wait's back-off: not looked at yet
	if _, err := m.Mounts(pod.UID); err == nil {
		t.Fatal("ready within the back-off")
	}
	n.clock.Step(maxWaitBackoff)
	if _, err := m.WaitForMount(ctx, pod); err != nil {
		t.Fatal(err)
	}
	if m.waiting() {
		t.Fatal("still waiting once staged")
	}

	// attachRequired: false: no attachment is asked for.
	no := false
	if _, err := n.api.StorageV1().CSIDrivers().Create(ctx, &storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: localdriver.Name},
		Spec: storagev1.CSIDriverSpec{AttachRequired: &no}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pv2 := filePV("pv-2", false)
	n.putVolume(pv2)
	n.src.bind("claim-2", pv2)
	if _, err := m.WaitForMount(ctx, claimPod("u2", "claim-2")); err != nil {
		t.Fatalf("a driver that needs no attachment: %v", err)
	}
}

func (n *node) attachment(pv *corev1.PersistentVolume) *storagev1.VolumeAttachment {
	n.t.Helper()
	va, err := n.api.StorageV1().VolumeAttachments().Get(context.Background(),
		localvolume.AttachmentName(pv.Spec.CSI.VolumeHandle, pv.Spec.CSI.Driver, testNode), metav1.GetOptions{})
	if err != nil {
		n.t.Fatal(err)
	}
	return va
}

func (n *node) updateAttachment(va *storagev1.VolumeAttachment) {
	n.t.Helper()
	if _, err := n.api.StorageV1().VolumeAttachments().Update(context.Background(), va, metav1.UpdateOptions{}); err != nil {
		n.t.Fatal(err)
	}
}

func TestCheckAttachment(t *testing.T) {
	pvName, other := "pv-1", "pv-2"
	c := &csiVolume{key: stagingKey{driver: localdriver.Name, handle: pvName}, pvName: pvName}
	va := func(mod func(*storagev1.VolumeAttachment)) *storagev1.VolumeAttachment {
		v := &storagev1.VolumeAttachment{ObjectMeta: metav1.ObjectMeta{Name: "csi-x"}, Spec: storagev1.VolumeAttachmentSpec{
			Attacher: localdriver.Name, NodeName: testNode, Source: storagev1.VolumeAttachmentSource{PersistentVolumeName: &pvName}},
			Status: storagev1.VolumeAttachmentStatus{Attached: true}}
		mod(v)
		return v
	}
	now := metav1.Now()
	for _, tc := range []struct {
		name    string
		va      *storagev1.VolumeAttachment
		waiting bool
		err     string
	}{
		{"attached", va(func(*storagev1.VolumeAttachment) {}), false, ""},
		{"not yet", va(func(v *storagev1.VolumeAttachment) { v.Status.Attached = false }), true, "is not attached to node"},
		{"attach error", va(func(v *storagev1.VolumeAttachment) {
			v.Status = storagev1.VolumeAttachmentStatus{AttachError: &storagev1.VolumeError{Message: "no such disk"}}
		}), true, "no such disk"},
		{"being deleted", va(func(v *storagev1.VolumeAttachment) { v.DeletionTimestamp = &now }), true, "is being detached"},
		{"another node", va(func(v *storagev1.VolumeAttachment) { v.Spec.NodeName = "other" }), false, "is not the attachment of"},
		{"another volume", va(func(v *storagev1.VolumeAttachment) { v.Spec.Source.PersistentVolumeName = &other }), false, "is not the attachment of"},
		{"another attacher", va(func(v *storagev1.VolumeAttachment) { v.Spec.Attacher = "ebs" }), false, "is not the attachment of"},
	} {
		err := checkAttachment(tc.va, c, testNode)
		switch {
		case tc.err == "" && err != nil, tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
		case err != nil && isWaiting(err) != tc.waiting:
			t.Errorf("%s: waiting %v, want %v", tc.name, isWaiting(err), tc.waiting)
		}
	}
}

// TestBackingFileGuardedByFinalizer: the finalizer is on the volume before
// its backing file is made; a volume being deleted gets no file (the
// server refuses the finalizer, and the manager does not try), nor does
// one that lives on another node or whose handle is not its name.
func TestBackingFileGuardedByFinalizer(t *testing.T) {
	n := newNode(t)
	ctx := context.Background()
	var sawFile []bool
	n.api.PrependReactor("update", "persistentvolumes", func(k8stesting.Action) (bool, runtime.Object, error) {
		_, err := os.Stat(filepath.Join(n.root, "volumes-backing", "pv-1.img"))
		sawFile = append(sawFile, err == nil)
		return false, nil, nil
	})
	n.bind("claim", filePV("pv-1", false))
	m := n.manager()
	if _, err := m.WaitForMount(ctx, claimPod("u1", "claim")); err != nil {
		t.Fatal(err)
	}
	if pv := n.volume("pv-1"); !slices.Contains(pv.Finalizers, localvolume.BackingFinalizer) {
		t.Fatalf("finalizers %v", pv.Finalizers)
	}
	if len(sawFile) != 1 || sawFile[0] {
		t.Fatalf("updates of the volume, and whether the file was there: %v; want one, before the file", sawFile)
	}

	now := metav1.Now()
	deleting := filePV("pv-2", false)
	deleting.DeletionTimestamp = &now
	elsewhere := filePV("pv-3", false)
	elsewhere.Spec.NodeAffinity = localvolume.NodeAffinity("other")
	renamed := filePV("pv-4", false)
	renamed.Spec.CSI.VolumeHandle = "data"
	for i, tc := range []struct {
		pv   *corev1.PersistentVolume
		file string
		want string
	}{
		{deleting, "pv-2.img", "PersistentVolume pv-2 is being deleted: no backing file is made for it"},
		{elsewhere, "pv-3.img", `lives on node "other", not on this node "node-1"`},
		{renamed, "data.img", "the volumeHandle of a file-backed volume must be the volume's name"},
	} {
		claim := fmt.Sprintf("claim-%d", i)
		n.bind(claim, tc.pv)
		_, err := m.WaitForMount(ctx, claimPod(fmt.Sprintf("p%d", i), claim))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.pv.Name, err, tc.want)
		}
		if _, err := os.Stat(filepath.Join(n.root, "volumes-backing", tc.file)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: a backing file was made: %v", tc.pv.Name, err)
		}
	}
	if len(sawFile) != 1 {
		t.Fatalf("%d updates of volumes, want 1", len(sawFile))
	}
}

func TestWithBackingFinalizer(t *testing.T) {
	now := metav1.Now()
	pv := func(deleting, finalizer bool, node string) *corev1.PersistentVolume {
		p := filePV("pv-1", false)
		p.Spec.NodeAffinity = localvolume.NodeAffinity(node)
		if deleting {
			p.DeletionTimestamp = &now
		}
		if finalizer {
			p.Finalizers = []string{"kubernetes.io/pv-protection", localvolume.BackingFinalizer}
		}
		return p
	}
	for _, tc := range []struct {
		name                string
		pv                  *corev1.PersistentVolume
		exists, add, refuse bool
	}{
		{"new volume", pv(false, false, testNode), false, true, false},
		{"has it", pv(false, true, testNode), false, false, false},
		{"has it, file there", pv(false, true, testNode), true, false, false},
		{"deleting, has it, file there", pv(true, true, testNode), true, false, false},
		{"deleting, has it, file gone", pv(true, true, testNode), false, false, true},
		{"deleting, without it, file there", pv(true, false, testNode), true, false, true},
		{"another node", pv(false, false, "other"), false, false, true},
	} {
		next, err := withBackingFinalizer(tc.pv, testNode, tc.exists)
		if (err != nil) != tc.refuse || (next != nil) != tc.add {
			t.Errorf("%s: %v %v; want add %v, refused %v", tc.name, next != nil, err, tc.add, tc.refuse)
		}
		if next != nil && (!hasBackingFinalizer(next) || len(next.Finalizers) != len(tc.pv.Finalizers)+1) {
			t.Errorf("%s: finalizers %v", tc.name, next.Finalizers)
		}
	}
}
