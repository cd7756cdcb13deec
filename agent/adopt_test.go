package agent

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/tools/record"

	"github.com/nodeagent/nodeagent/cri"
	crifake "github.com/nodeagent/nodeagent/cri/fake"
)

// restartedHarness runs appPod on a first agent, then returns a second
// agent over the same runtime state (a restart) whose network holds the
// first one's attachments.
func restartedHarness(t *testing.T) (first, second *harness) {
	rt := crifake.New()
	rt.AddImage("img")
	h := newHarness(t, rt, appPod())
	h.sync("ns/p")
	h.sync("ns/p")
	if len(h.net.checks) != 0 {
		t.Fatalf("the agent CHECKed a sandbox it made itself: %v", h.net.checks)
	}
	h2 := newHarness(t, rt.Reopen(), h.pod("ns", "p"))
	h2.net.attached = h.net.attached
	rec := record.NewFakeRecorder(10)
	h2.a.recorder = rec
	return h, h2
}

func TestAdoptedSandboxIsCheckedOnce(t *testing.T) {
	_, h2 := restartedHarness(t)
	h2.sync("ns/p")
	h2.sync("ns/p")
	if want := []string{cniID("uid1", 0)}; !slices.Equal(h2.net.checks, want) {
		t.Fatalf("CHECKs %v, want %v (once, for the adopted sandbox)", h2.net.checks, want)
	}
	for _, e := range drain(h2.a.recorder.(*record.FakeRecorder)) {
		if strings.Contains(e, reasonFailedCNICheck) {
			t.Fatalf("a passing CHECK gave an event: %s", e)
		}
	}
}

func TestFailedCheckIsReportedNotTornDown(t *testing.T) {
	h, h2 := restartedHarness(t)
	h2.net.checkErr = errors.New("veth gone")
	before := h.containers()
	h2.sync("ns/p")
	ev := drain(h2.a.recorder.(*record.FakeRecorder))
	if !slices.ContainsFunc(ev, func(e string) bool {
		return strings.HasPrefix(e, "Warning "+reasonFailedCNICheck) && strings.Contains(e, "veth gone")
	}) {
		t.Fatalf("no %s Warning event: %v", reasonFailedCNICheck, ev)
	}
	after := h2.containers()
	if len(after) != len(before) {
		t.Fatalf("containers %d -> %d after a failed CHECK", len(before), len(after))
	}
	for i := range before {
		if before[i].ID != after[i].ID || after[i].State != cri.ContainerRunning && before[i].State == cri.ContainerRunning {
			t.Fatalf("container %s was touched after a failed CHECK: %+v", before[i].ID, after[i])
		}
	}
	if !h2.net.attached[cniID("uid1", 0)] {
		t.Fatal("a failed CHECK detached the running pod")
	}
	sbs, _ := h2.rt.ListPodSandboxes(h2.ctx, nil)
	if len(sbs) != 1 || sbs[0].State != cri.SandboxReady {
		t.Fatalf("sandboxes after a failed CHECK: %+v", sbs)
	}
}

func drain(r *record.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-r.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}
