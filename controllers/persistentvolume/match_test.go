package persistentvolume

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestFindMatchingVolume(t *testing.T) {
	c := claim("data", "1Gi", ptr(""))
	fast := claim("data", "1Gi", ptr("fast"))
	selecting := claim("data", "1Gi", ptr(""), func(c *corev1.PersistentVolumeClaim) {
		c.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "gold"}}
	})
	block := claim("data", "1Gi", ptr(""), func(c *corev1.PersistentVolumeClaim) {
		c.Spec.VolumeMode = ptr(corev1.PersistentVolumeBlock)
	})
	other := claim("other", "1Gi", ptr(""))
	deleting := func(pv *corev1.PersistentVolume) { pv.DeletionTimestamp = &metav1.Time{Time: time.Unix(1, 0)} }
	tests := []struct {
		name    string
		claim   *corev1.PersistentVolumeClaim
		volumes []*corev1.PersistentVolume
		node    *corev1.Node
		delay   bool
		want    string
	}{
		{"the smallest that is large enough", c, []*corev1.PersistentVolume{volume("small", "512Mi"), volume("big", "10Gi"), volume("fit", "2Gi")}, nil, false, "fit"},
		{"equal size, first name", c, []*corev1.PersistentVolume{volume("b", "1Gi"), volume("a", "1Gi")}, nil, false, "a"},
		{"fewest access modes first", c, []*corev1.PersistentVolume{volume("many", "1Gi", modes(rwo, rox, rwx)), volume("one", "5Gi")}, nil, false, "one"},
		{"every requested mode", claim("data", "1Gi", ptr(""), func(c *corev1.PersistentVolumeClaim) {
			c.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{rwx}
		}), []*corev1.PersistentVolume{volume("rwo", "1Gi"), volume("rwx", "1Gi", modes(rwo, rwx))}, nil, false, "rwx"},
		{"class must match", fast, []*corev1.PersistentVolume{volume("none", "1Gi"), volume("fast", "1Gi", classed("fast"))}, nil, false, "fast"},
		{"no class takes only classless volumes", c, []*corev1.PersistentVolume{volume("fast", "1Gi", classed("fast"))}, nil, false, ""},
		{"selector", selecting, []*corev1.PersistentVolume{volume("plain", "1Gi"), volume("gold", "1Gi", labelled("tier", "gold"))}, nil, false, "gold"},
		{"volume mode", block, []*corev1.PersistentVolume{volume("fs", "1Gi"), volume("blk", "1Gi", func(pv *corev1.PersistentVolume) {
			pv.Spec.VolumeMode = ptr(corev1.PersistentVolumeBlock)
		})}, nil, false, "blk"},
		{"not Available", c, []*corev1.PersistentVolume{volume("released", "1Gi", phase(corev1.VolumeReleased))}, nil, false, ""},
		{"being deleted", c, []*corev1.PersistentVolume{volume("going", "1Gi", deleting)}, nil, false, ""},
		{"bound to another claim", c, []*corev1.PersistentVolume{volume("taken", "1Gi", claimedBy(other, true))}, nil, false, ""},
		{"pre-bound wins over a better fit", c, []*corev1.PersistentVolume{volume("fit", "1Gi"),
			volume("mine", "5Gi", claimedBy(c, false), phase(corev1.VolumePending))}, nil, false, "mine"},
		{"pre-bound, but too small", c, []*corev1.PersistentVolume{volume("mine", "1Mi", claimedBy(c, true))}, nil, false, ""},
		{"WaitForFirstConsumer without a node: only pre-bound", c, []*corev1.PersistentVolume{volume("fit", "1Gi")}, nil, true, ""},
		{"WaitForFirstConsumer, pre-bound", c, []*corev1.PersistentVolume{volume("mine", "1Gi", claimedBy(c, true))}, nil, true, "mine"},
		{"node affinity on the node", c, []*corev1.PersistentVolume{volume("on-b", "1Gi", onlyOn("b")), volume("on-a", "2Gi", onlyOn("a"))}, node("a"), true, "on-a"},
		{"pre-bound elsewhere: nothing", c, []*corev1.PersistentVolume{volume("mine", "1Gi", claimedBy(c, true), onlyOn("b")), volume("on-a", "1Gi", onlyOn("a"))}, node("a"), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FindMatchingVolume(tt.claim, tt.volumes, tt.node, tt.delay)
			name := ""
			if got != nil {
				name = got.Name
			}
			if name != tt.want {
				t.Errorf("got %q, want %q", name, tt.want)
			}
		})
	}
}
