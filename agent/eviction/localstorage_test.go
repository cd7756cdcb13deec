package eviction

import (
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
)

func TestLocalStorageLimits(t *testing.T) {
	n := newFakeNode(8<<30, 1<<30)
	// scratch is over its emptyDir's sizeLimit, cache within it.
	over := n.addPod("scratch", 0, 0, nil, nil)
	limit := resource.MustParse("10Mi")
	over.Spec.Volumes = []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &limit}}}}
	n.podStats("scratch").VolumeStats = []statsapi.VolumeStats{{Name: "scratch", FsStats: statsapi.FsStats{UsedBytes: ptr[uint64](11 * mi)}}}
	within := n.addPod("cache", 0, 0, nil, nil)
	within.Spec.Volumes = over.Spec.Volumes
	n.podStats("cache").VolumeStats = []statsapi.VolumeStats{{Name: "scratch", FsStats: statsapi.FsStats{UsedBytes: ptr[uint64](9 * mi)}}}
	// chatty's logs and volumes exceed its containers' summed limit.
	n.addPod("chatty", 0, 30*mi, nil, res("ephemeral-storage", "20Mi"))
	n.addPod("quiet", 0, 1*mi, nil, res("ephemeral-storage", "20Mi"))
	m, _ := newTestManager(t, n, Config{Thresholds: mustThresholds(t, hardMemory, nil, nil, nil)})
	evicted, err := m.synchronize(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(evicted) != 2 || !slices.Equal(n.killedNames(), []string{"scratch", "chatty"}) {
		t.Fatalf("evicted %v, want scratch and chatty", n.killedNames())
	}
	for i, want := range []string{`Usage of EmptyDir volume "scratch" exceeds the limit "10Mi". `,
		"Pod ephemeral local storage usage exceeds the total limit of containers 20Mi. "} {
		if k := n.killed[i]; k.status.Message != want || k.status.Reason != "Evicted" || k.grace != 1 {
			t.Errorf("%s: %s %q grace %d, want Evicted %q grace 1", k.pod, k.status.Reason, k.status.Message, k.grace, want)
		}
	}
	if m.IsUnderDiskPressure() || m.IsUnderMemoryPressure() {
		t.Error("a pod over its own limit put the node under pressure")
	}
}

func TestContainerEphemeralStorageLimit(t *testing.T) {
	n := newFakeNode(8<<30, 1<<30)
	p := n.addPod("two", 0, 30*mi, nil, res("ephemeral-storage", "20Mi"))
	p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "big", Resources: corev1.ResourceRequirements{
		Limits: res("ephemeral-storage", "1Gi")}})
	m, _ := newTestManager(t, n, Config{})
	m.synchronize(context.Background())
	want := `Container c exceeded its local ephemeral storage limit "20Mi". `
	if len(n.killed) != 1 || n.killed[0].status.Message != want {
		t.Fatalf("killed %+v, want two with %q", n.killed, want)
	}
}
