package agent

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nodeagent/nodeagent/agent/shutdown"
	"github.com/nodeagent/nodeagent/cri"
	crifake "github.com/nodeagent/nodeagent/cri/fake"
)

func shutdownPod(name string, prio int32) *corev1.Pod {
	p := podSpec(corev1.RestartPolicyAlways, nil, "a")
	p.Name, p.UID, p.Spec.NodeName, p.Spec.Priority = name, types.UID("uid-"+name), "n1", &prio
	p.Status.Phase = corev1.PodPending
	return p
}

// On PrepareForShutdown the agent's pods, ordinary and critical, are
// stopped by their workers, with kubelet's status, and stay stopped (a
// restartPolicy Always pod is not restarted); the node is not ready
// meanwhile; then the inhibitor lock goes.
func TestGracefulShutdownTerminatesPods(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	logind := shutdown.NewFake(time.Minute)
	h := newHarnessWith(t, rt, []Option{WithShutdownInhibitor(logind)}, shutdownPod("web", 0), shutdownPod("critical", 2000001000))
	h.startInformer()
	h.a.cfg.Shutdown = shutdown.Config{GracePeriod: 20 * time.Second, GracePeriodCriticalPods: 10 * time.Second}
	h.a.shutdown = h.a.newShutdownManager()
	h.sync("ns/web")
	h.sync("ns/critical")
	if running := runningContainers(h); running != 2 {
		t.Fatalf("%d containers running before shutdown", running)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	t.Cleanup(h.a.queue.ShutDown)
	go h.a.worker(ctx)
	go h.a.runShutdown(ctx)
	<-logind.Subscribed
	if _, healthy, _ := h.a.runtimeHealth(ctx); !healthy {
		t.Fatal("node not ready before the shutdown")
	}
	logind.Announce(true)
	select {
	case <-logind.Released:
	case <-time.After(30 * time.Second):
		t.Fatal("the inhibitor lock was not released")
	}
	if running := runningContainers(h); running != 0 {
		t.Errorf("%d containers still running", running)
	}
	for _, name := range []string{"web", "critical"} {
		s := h.pod("ns", name).Status
		if s.Phase != corev1.PodFailed || s.Reason != "Terminated" || s.Message != "Pod was terminated in response to imminent node shutdown." {
			t.Errorf("%s: status %s %s %q", name, s.Phase, s.Reason, s.Message)
		}
	}
	if _, healthy, why := h.a.runtimeHealth(ctx); healthy || why != "node is shutting down" {
		t.Errorf("node health during shutdown: %v %q", healthy, why)
	}
	h.sync("ns/web") // a later sync does not bring it back
	if running := runningContainers(h); running != 0 {
		t.Errorf("%d containers running after a sync", running)
	}

	// A pod that comes now is refused, as kubelet refuses it.
	late := shutdownPod("late", 0)
	if _, err := h.client.CoreV1().Pods("ns").Create(h.ctx, late, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A worker may reject it before the test syncs it: wait for it in the
	// cache in any version, then sync (a second rejection changes nothing).
	h.waitCacheHas("ns/late")
	h.sync("ns/late")
	if s := h.pod("ns", "late").Status; s.Phase != corev1.PodFailed || s.Reason != "NodeShutdown" ||
		s.Message != "Pod was rejected: Pod was rejected as the node is shutting down." {
		t.Errorf("late pod: %s %s %q", s.Phase, s.Reason, s.Message)
	}
	if sbs, _ := rt.ListPodSandboxes(h.ctx, map[string]string{cri.LabelPodUID: "uid-late"}); len(sbs) != 0 {
		t.Errorf("late pod got sandboxes %v", sbs)
	}
}

func runningContainers(h *harness) int {
	n := 0
	for _, c := range h.containers() {
		if c.State == cri.ContainerRunning {
			n++
		}
	}
	return n
}

// waitCacheHas waits until the informer has key, in any version.
func (h *harness) waitCacheHas(key string) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, ok, _ := h.a.pods.GetIndexer().GetByKey(key); ok {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("informer does not have %s", key)
}
