package cm

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func res(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

func ctr(name string, requests, limits corev1.ResourceList) corev1.Container {
	return corev1.Container{Name: name, Resources: corev1.ResourceRequirements{Requests: requests, Limits: limits}}
}

func podOf(cs ...corev1.Container) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: "u1"}, Spec: corev1.PodSpec{Containers: cs}}
}

func TestPodResourceConfig(t *testing.T) {
	guaranteed := podOf(ctr("a", res("cpu", "500m", "memory", "64Mi"), res("cpu", "500m", "memory", "64Mi")),
		ctr("b", res("cpu", "250m", "memory", "32Mi"), res("cpu", "250m", "memory", "32Mi")))
	burstableMemOnly := podOf(ctr("a", res("cpu", "100m", "memory", "10Mi"), res("memory", "20Mi")))
	burstablePartial := podOf(ctr("a", res("cpu", "100m"), res("cpu", "200m")), ctr("b", nil, nil))
	bestEffort := podOf(ctr("a", nil, nil))
	sidecar := corev1.ContainerRestartPolicyAlways
	withInit := podOf(ctr("app", res("cpu", "100m", "memory", "10Mi"), res("cpu", "100m", "memory", "10Mi")))
	withInit.Spec.InitContainers = []corev1.Container{
		ctr("big-init", res("cpu", "1", "memory", "1Gi"), res("cpu", "1", "memory", "1Gi")),
		func() corev1.Container {
			c := ctr("side", res("cpu", "50m", "memory", "5Mi"), res("cpu", "50m", "memory", "5Mi"))
			c.RestartPolicy = &sidecar
			return c
		}(),
	}
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want ResourceConfig
	}{
		{"guaranteed sums", guaranteed, ResourceConfig{CPUShares: ptr(uint64(768)), CPUQuota: ptr(int64(75000)),
			CPUPeriod: ptr(uint64(100000)), Memory: ptr(int64(96 << 20)), MemoryMin: ptr(int64(96 << 20))}},
		{"burstable: memory limited everywhere, cpu nowhere", burstableMemOnly, ResourceConfig{CPUShares: ptr(uint64(102)),
			Memory: ptr(int64(20 << 20)), MemoryMin: ptr(int64(10 << 20))}},
		{"burstable: one container without a cpu limit leaves no quota", burstablePartial, ResourceConfig{CPUShares: ptr(uint64(102))}},
		{"besteffort", bestEffort, ResourceConfig{CPUShares: ptr(uint64(2))}},
		{"an init container alone needs more than the apps", withInit, ResourceConfig{CPUShares: ptr(uint64(1024)),
			CPUQuota: ptr(int64(100000)), CPUPeriod: ptr(uint64(100000)), Memory: ptr(int64(1 << 30)), MemoryMin: ptr(int64(1 << 30))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := PodResourceConfig(tc.pod); !sameConfig(*got, tc.want) {
				t.Errorf("got %s, want %s", showConfig(*got), showConfig(tc.want))
			}
		})
	}
}

func TestOOMScoreAdj(t *testing.T) {
	const capacity = 10 << 30
	burst := func(mem string) *corev1.Pod {
		return podOf(ctr("a", res("memory", mem), nil))
	}
	critical := podOf(ctr("a", nil, nil))
	critical.Spec.PriorityClassName, critical.Spec.Priority = "system-node-critical", ptr(int32(2000001000))
	clusterCritical := podOf(ctr("a", nil, nil))
	clusterCritical.Spec.PriorityClassName, clusterCritical.Spec.Priority = "system-cluster-critical", ptr(int32(2000000000))
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want int
	}{
		{"guaranteed", podOf(ctr("a", res("cpu", "1", "memory", "1Gi"), res("cpu", "1", "memory", "1Gi"))), -997},
		{"besteffort", podOf(ctr("a", nil, nil)), 1000},
		{"burstable 10%", burst("1Gi"), 900},
		{"burstable, a tiny request stays below besteffort", burst("1"), 999},
		{"burstable, all memory stays above guaranteed", burst("10Gi"), 3},
		{"burstable, more than all memory", burst("20Gi"), 3},
		{"node critical besteffort", critical, -997},
		{"cluster critical besteffort is besteffort", clusterCritical, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := OOMScoreAdj(tc.pod, &tc.pod.Spec.Containers[0], capacity); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestSidecarOOMScoreAdjFollowsTheSmallestRegularRequest(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	pod := podOf(ctr("app", res("memory", "2Gi"), nil))
	side := ctr("side", res("memory", "100Mi"), nil)
	side.RestartPolicy = &always
	pod.Spec.InitContainers = []corev1.Container{side}
	if got, want := OOMScoreAdj(pod, &pod.Spec.InitContainers[0], 10<<30), 800; got != want {
		t.Errorf("sidecar %d, want %d (the app's)", got, want)
	}
}

func TestIsCritical(t *testing.T) {
	static := podOf()
	static.Annotations = map[string]string{"kubernetes.io/config.source": "file"}
	mirror := podOf()
	mirror.Annotations = map[string]string{"kubernetes.io/config.mirror": "x"}
	high := podOf()
	high.Spec.Priority = ptr(int32(2000000000))
	low := podOf()
	low.Spec.Priority = ptr(int32(1000000000))
	for name, tc := range map[string]struct {
		pod  *corev1.Pod
		want bool
	}{"static": {static, true}, "mirror": {mirror, true}, "cluster critical": {high, true}, "user priority": {low, false}, "none": {podOf(), false}} {
		if got := IsCritical(tc.pod); got != tc.want {
			t.Errorf("%s: %v", name, got)
		}
	}
}

func sameConfig(a, b ResourceConfig) bool { return showConfig(a) == showConfig(b) }

func showConfig(c ResourceConfig) string {
	s := ""
	show := func(name string, v any) {
		s += name + "="
		switch p := v.(type) {
		case *uint64:
			if p != nil {
				s += utoa(*p)
			}
		case *int64:
			if p != nil {
				s += itoa(*p)
			}
		}
		s += " "
	}
	show("shares", c.CPUShares)
	show("quota", c.CPUQuota)
	show("period", c.CPUPeriod)
	show("memory", c.Memory)
	show("memory.min", c.MemoryMin)
	show("pids", c.PidsLimit)
	return s
}
