package agent

import (
	"testing"

	crifake "github.com/nodeagent/nodeagent/cri/fake"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// burstablePod requests CPU and memory and limits memory only.
func burstablePod() *corev1.Pod {
	pod := podSpec(corev1.RestartPolicyAlways, nil, "a")
	pod.Spec.NodeName = "n1"
	pod.Spec.Containers[0].Resources = corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")}}
	pod.Status.QOSClass = corev1.PodQOSBurstable
	return pod
}

// A pod runs in its own cgroup below its QoS tier, with its limits there;
// its sandbox has it as cgroup parent, its containers the oom_score_adj of
// their class; the tier weighs the pod's requests; the cgroup goes with
// the pod.
func TestPodCgroupBelowItsQOSTier(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	h := newHarness(t, rt, burstablePod())
	h.sync("ns/p")
	const want = "/nodeagent/n1/kubepods/burstable/poduid1"
	rc, ok := h.cgroups.Get(want)
	if !ok {
		t.Fatalf("no pod cgroup %s; cgroups: %v", want, h.cgroups.Paths())
	}
	if rc.CPUShares == nil || *rc.CPUShares != 256 || rc.Memory == nil || *rc.Memory != 128<<20 || rc.CPUQuota != nil {
		t.Errorf("pod cgroup limits %+v", rc)
	}
	sbs, _ := rt.ListPodSandboxes(h.ctx, nil)
	if cfg, _ := rt.SandboxConfig(sbs[0].ID); cfg.CgroupParent != want {
		t.Errorf("sandbox cgroup parent %q, want %q", cfg.CgroupParent, want)
	}
	cfg, _ := rt.ContainerConfig(h.containers()[0].ID)
	memCap := h.a.cm.MemoryCapacity()
	wantAdj := int(1000 - 1000*(64<<20)/memCap)
	if cfg.Resources.OOMScoreAdj == nil || *cfg.Resources.OOMScoreAdj != wantAdj {
		t.Errorf("oom_score_adj %v, want %d", cfg.Resources.OOMScoreAdj, wantAdj)
	}
	if tier, _ := h.cgroups.Get("/nodeagent/n1/kubepods/burstable"); tier.CPUShares == nil || *tier.CPUShares != 256 {
		t.Errorf("burstable tier shares %v, want the pod's 250m", tier.CPUShares)
	}
	p := h.pod("ns", "p")
	now := metav1.NewTime(t0)
	grace := int64(0)
	p.DeletionTimestamp, p.DeletionGracePeriodSeconds = &now, &grace
	if _, err := h.client.CoreV1().Pods("ns").Update(h.ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitCache("ns", "p")
	h.sync("ns/p")
	if h.cgroups.Exists(want) {
		t.Errorf("pod cgroup left after teardown: %v", h.cgroups.Paths())
	}
	if uids := h.a.podCgroupUIDs(); len(uids) != 0 {
		t.Errorf("pods with a cgroup: %v", uids)
	}
}

func TestOOMScoreAdjByQOSClass(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	guaranteed := podSpec(corev1.RestartPolicyAlways, nil, "a")
	guaranteed.Name, guaranteed.UID, guaranteed.Spec.NodeName = "g", "uid-g", "n1"
	res := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("32Mi")}
	guaranteed.Spec.Containers[0].Resources = corev1.ResourceRequirements{Requests: res, Limits: res}
	guaranteed.Status.QOSClass = corev1.PodQOSGuaranteed
	bestEffort := podSpec(corev1.RestartPolicyAlways, nil, "a")
	bestEffort.Name, bestEffort.UID, bestEffort.Spec.NodeName = "b", "uid-b", "n1"
	bestEffort.Status.QOSClass = corev1.PodQOSBestEffort
	h := newHarness(t, rt, guaranteed, bestEffort)
	h.sync("ns/g")
	h.sync("ns/b")
	for _, c := range h.containers() {
		cfg, _ := rt.ContainerConfig(c.ID)
		want := map[string]int{"g": -997, "b": 1000}[cfg.Labels["io.nodeagent.pod.name"]]
		if cfg.Resources.OOMScoreAdj == nil || *cfg.Resources.OOMScoreAdj != want {
			t.Errorf("%s: oom_score_adj %v, want %d", cfg.Labels["io.nodeagent.pod.name"], cfg.Resources.OOMScoreAdj, want)
		}
	}
	for _, p := range []string{"/nodeagent/n1/kubepods/poduid-g", "/nodeagent/n1/kubepods/besteffort/poduid-b"} {
		if !h.cgroups.Exists(p) {
			t.Errorf("no cgroup %s: %v", p, h.cgroups.Paths())
		}
	}
}
