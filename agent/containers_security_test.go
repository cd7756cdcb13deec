package agent

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestFSGroupIsASupplementalGroup: the pod's fsGroup joins the
// container's supplemental groups, as kubelet gives it, so that a
// container running as another user can use the volumes given to that
// group.
func TestFSGroupIsASupplementalGroup(t *testing.T) {
	fsGroup, user := int64(2000), int64(1000)
	pod := &corev1.Pod{Spec: corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{RunAsUser: &user, FSGroup: &fsGroup,
		SupplementalGroups: []int64{3000}}}}
	s := security(pod, corev1.Container{})
	if !slices.Equal(s.SupplementalGroups, []int64{3000, 2000}) {
		t.Fatalf("supplemental groups %v, want [3000 2000]", s.SupplementalGroups)
	}
	if !slices.Equal(pod.Spec.SecurityContext.SupplementalGroups, []int64{3000}) {
		t.Fatal("the pod's spec was changed")
	}
}
