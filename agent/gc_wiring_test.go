package agent

import (
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/agent/lifecycle"
	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/crilog"
	crifake "github.com/nodeagent/nodeagent/cri/fake"
)

// A crash-looping container keeps its running instance and the one before
// it through the agent's collector: the older ones go with their logs and
// termination message files, and the pod's status (restart count, last
// state) is as before. Every container's log rotates at kubelet's sizes.
func TestGCKeepsOneDeadInstanceOfACrashLoop(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	pod := podSpec(corev1.RestartPolicyAlways, nil, "a")
	pod.Spec.NodeName = "n1"
	pod.Spec.Containers[0].TerminationMessagePath = "/dev/termination-log"
	h := newHarness(t, rt, pod)
	h.sync("ns/p")
	for i := 0; i < 3; i++ {
		running := runningOf(h.containers())
		if err := rt.WriteLog(running.ID, "stdout", "crash"); err != nil {
			t.Fatal(err)
		}
		if err := rt.ExitContainer(running.ID, 1, ""); err != nil {
			t.Fatal(err)
		}
		h.waitCache("ns", "p")
		h.sync("ns/p") // the exit shown, the back-off begins
		h.clock.Step(6 * time.Minute)
		h.waitCache("ns", "p")
		h.sync("ns/p") // the next instance
	}
	if err := rt.WriteLog(runningOf(h.containers()).ID, "stdout", "up"); err != nil {
		t.Fatal(err)
	}
	all := h.containers()
	if len(all) != 4 {
		t.Fatalf("%d containers before the collection, want 4", len(all))
	}
	if err := h.a.GarbageCollect(h.ctx); err != nil {
		t.Fatal(err)
	}
	left := map[string]bool{}
	for _, c := range h.containers() {
		left[c.Labels[cri.LabelAttempt]] = true
	}
	for _, c := range all {
		att := c.Labels[cri.LabelAttempt]
		want := att == "2" || att == "3"
		msg := lifecycle.MessageFilePath(h.a.podDir(string(pod.UID)), "a", attempt(c))
		if left[att] != want || exists(c.LogPath) != want || exists(msg) != want {
			t.Errorf("attempt %s: kept %v, log %v, message file %v; want %v", att, left[att], exists(c.LogPath), exists(msg), want)
		}
		if cfg, ok := rt.ContainerConfig(c.ID); ok && cfg.LogRotation != (crilog.Rotation{MaxSize: 10 << 20, MaxFiles: 5}) {
			t.Errorf("attempt %s: log rotation %+v, want 10Mi × 5", att, cfg.LogRotation)
		}
	}
	h.waitCache("ns", "p")
	h.sync("ns/p")
	st := h.pod("ns", "p").Status.ContainerStatuses[0]
	if st.RestartCount != 3 || st.State.Running == nil || st.LastTerminationState.Terminated == nil || st.LastTerminationState.Terminated.ExitCode != 1 {
		t.Errorf("status after the collection: %+v", st)
	}
}

func runningOf(cs []cri.Container) cri.Container {
	for _, c := range cs {
		if c.State == cri.ContainerRunning {
			return c
		}
	}
	return cri.Container{}
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
