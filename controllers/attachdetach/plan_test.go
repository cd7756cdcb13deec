package attachdetach

import (
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nodeagent/nodeagent/api/localvolume"
)

func localVolume(name, node string, modes ...corev1.PersistentVolumeAccessMode) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeSpec{AccessModes: modes,
			Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
				Driver: localvolume.Driver, VolumeHandle: name}},
			NodeAffinity: localvolume.NodeAffinity(node)}}
}

func testPod(ns, name, node string, age time.Duration) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name),
		CreationTimestamp: metav1.NewTime(time.Unix(1_000_000, 0).Add(-age))}, Spec: corev1.PodSpec{NodeName: node}}
}

func attachment(pv *corev1.PersistentVolume, node string, attached bool) *storagev1.VolumeAttachment {
	va := newAttachment(pv.Name, pv.Spec.CSI, node)
	va.Status.Attached = attached
	return va
}

// summary is "create a; delete b; attach a; <event>" for a plan.
func summary(p volumePlan) string {
	var out []string
	for _, va := range p.create {
		out = append(out, "create "+va.Spec.NodeName)
	}
	for _, va := range p.delete {
		out = append(out, "delete "+va.Spec.NodeName)
	}
	for _, va := range p.status {
		if va.Status.Attached {
			out = append(out, "attach "+va.Spec.NodeName)
		} else {
			out = append(out, "error "+va.Spec.NodeName+": "+va.Status.AttachError.Message)
		}
	}
	for _, e := range p.events {
		out = append(out, e.pod.Name+" "+e.reason+": "+e.message)
	}
	return strings.Join(out, "; ")
}

func TestPlanVolume(t *testing.T) {
	rwo := localVolume("pv-1", "a", corev1.ReadWriteOnce)
	rwx := localVolume("pv-1", "a", corev1.ReadWriteMany)
	web := testPod("default", "web", "a", time.Hour)
	other := testPod("default", "other", "b", time.Minute)
	foreign := testPod("prod", "db", "a", time.Hour)
	tests := []struct {
		name string
		in   volumeInput
		want string
	}{
		{"a pod: attach its node", volumeInput{pv: rwo, podsByNode: map[string][]*corev1.Pod{"a": {web}}}, "create a"},
		{"created: the local attacher marks it", volumeInput{pv: rwo, podsByNode: map[string][]*corev1.Pod{"a": {web}},
			attachments: []*storagev1.VolumeAttachment{attachment(rwo, "a", false)}},
			`attach a; web SuccessfulAttachVolume: AttachVolume.Attach succeeded for volume "pv-1"`},
		{"attached: nothing to do", volumeInput{pv: rwo, podsByNode: map[string][]*corev1.Pod{"a": {web}},
			attachments: []*storagev1.VolumeAttachment{attachment(rwo, "a", true)}}, ""},
		{"ReadWriteOnce elsewhere: Multi-Attach", volumeInput{pv: rwo, podsByNode: map[string][]*corev1.Pod{"a": {web}, "b": {other}},
			attachments: []*storagev1.VolumeAttachment{attachment(rwo, "a", true)}},
			`other FailedAttachVolume: Multi-Attach error for volume "pv-1" Volume is already used by pod(s) web`},
		{"the oldest pod's node wins a race", volumeInput{pv: rwo, podsByNode: map[string][]*corev1.Pod{"b": {other}, "a": {web}}},
			`create a; other FailedAttachVolume: Multi-Attach error for volume "pv-1" Volume is already used by pod(s) web`},
		{"pods in other namespaces are counted", volumeInput{pv: rwo, podsByNode: map[string][]*corev1.Pod{"a": {foreign}, "b": {other}},
			attachments: []*storagev1.VolumeAttachment{attachment(rwo, "a", true)}},
			`other FailedAttachVolume: Multi-Attach error for volume "pv-1" Volume is already used by 1 pod(s) in different namespaces`},
		{"no pod left there", volumeInput{pv: rwo, podsByNode: map[string][]*corev1.Pod{"b": {other}},
			attachments: []*storagev1.VolumeAttachment{attachment(rwo, "a", true)}},
			`delete a; other FailedAttachVolume: Multi-Attach error for volume "pv-1" Volume is already exclusively attached to one node and can't be attached to another`},
		{"ReadWriteMany may be on both", volumeInput{pv: rwx, podsByNode: map[string][]*corev1.Pod{"a": {web}, "b": {other}},
			attachments: []*storagev1.VolumeAttachment{attachment(rwx, "a", true)}},
			`create b`},
		{"not on its node: attach error", volumeInput{pv: rwx, podsByNode: map[string][]*corev1.Pod{"b": {other}},
			attachments: []*storagev1.VolumeAttachment{attachment(rwx, "b", false)}},
			`error b: volume "pv-1" lives on node "a" and cannot be attached to node "b"`},
		{"the volume is gone: detach", volumeInput{podsByNode: map[string][]*corev1.Pod{},
			attachments: []*storagev1.VolumeAttachment{attachment(rwo, "a", true)}}, "delete a"},
		{"someone else's attachment stays", volumeInput{pv: rwo, podsByNode: map[string][]*corev1.Pod{},
			attachments: []*storagev1.VolumeAttachment{func() *storagev1.VolumeAttachment {
				va := attachment(rwo, "a", true)
				va.Name = "manual"
				return va
			}()}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.attachRequired = tt.in.pv != nil
			if got := summary(planVolume(tt.in)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestAttachmentNameIsKubes(t *testing.T) {
	// kube's CSI attacher: "csi-" + hex(sha256(handle + driver + node)).
	got := localvolume.AttachmentName("pvc-1", "local.nodeagent.io", "a")
	if !strings.HasPrefix(got, "csi-") || len(got) != 4+64 {
		t.Errorf("name %q", got)
	}
	if slices.Contains([]string{localvolume.AttachmentName("pvc-1", "local.nodeagent.io", "b")}, got) {
		t.Error("two nodes share a name")
	}
}
