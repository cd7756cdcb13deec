package gc

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/cri"
)

var t0 = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

// ctr is instance attempt of container name of pod uid in sandbox sb,
// created attempt minutes after t0; ID "<uid>/<name>/<attempt>".
func ctr(uid, name string, attempt int, state cri.ContainerState, sb string) cri.Container {
	return cri.Container{ID: fmt.Sprintf("%s/%s/%d", uid, name, attempt), SandboxID: sb, State: state,
		CreatedAt: t0.Add(time.Duration(attempt) * time.Minute),
		Labels:    map[string]string{cri.LabelPodUID: uid, cri.LabelContainerName: name, cri.LabelAttempt: fmt.Sprint(attempt)}}
}

// crashLoop is container name of pod uid that ran n times; the last
// instance is in state last.
func crashLoop(uid, name string, n int, last cri.ContainerState) []cri.Container {
	var out []cri.Container
	for i := 0; i < n; i++ {
		st := cri.ContainerExited
		if i == n-1 {
			st = last
		}
		out = append(out, ctr(uid, name, i, st, "sb-"+uid))
	}
	return out
}

func ids(cs []cri.Container) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return strings.Join(out, " ")
}

func noneDeleted(string) bool { return false }

func deletedPods(uids ...string) func(string) bool {
	return func(uid string) bool { return slices.Contains(uids, uid) }
}

var kubeletDefault = containerPolicy{maxPerPodContainer: 1, maxContainers: -1}

func TestPlanContainers(t *testing.T) {
	now := t0.Add(time.Hour)
	for _, tc := range []struct {
		name    string
		cs      []cri.Container
		deleted func(string) bool
		policy  containerPolicy
		want    string
	}{
		{"a crash loop keeps the running one and one dead", crashLoop("a", "c", 5, cri.ContainerRunning), noneDeleted, kubeletDefault,
			"a/c/0 a/c/1 a/c/2"},
		{"in back-off the newest dead one stays alone", crashLoop("a", "c", 5, cri.ContainerExited), noneDeleted, kubeletDefault,
			"a/c/0 a/c/1 a/c/2 a/c/3"},
		{"a container that ran once keeps its only instance", crashLoop("a", "c", 1, cri.ContainerExited), noneDeleted, kubeletDefault, ""},
		{"a newest instance created but never started stays", crashLoop("a", "c", 3, cri.ContainerCreated), noneDeleted, kubeletDefault,
			"a/c/0"},
		{"each container of a pod on its own", append(crashLoop("a", "c", 3, cri.ContainerRunning), crashLoop("a", "d", 3, cri.ContainerExited)...),
			noneDeleted, kubeletDefault, "a/c/0 a/d/0 a/d/1"},
		{"no limit", crashLoop("a", "c", 5, cri.ContainerExited), noneDeleted, containerPolicy{maxPerPodContainer: -1, maxContainers: -1}, ""},
		{"a limit of 3", crashLoop("a", "c", 6, cri.ContainerRunning), noneDeleted, containerPolicy{maxPerPodContainer: 3, maxContainers: -1},
			"a/c/0 a/c/1"},
		{"a deleted pod's dead containers all go", crashLoop("a", "c", 3, cri.ContainerExited), deletedPods("a"), kubeletDefault,
			"a/c/0 a/c/1 a/c/2"},
		{"but not a running one", crashLoop("a", "c", 3, cri.ContainerRunning), deletedPods("a"), kubeletDefault, "a/c/0 a/c/1"},
		{"young ones stay and do not count", crashLoop("a", "c", 5, cri.ContainerRunning), noneDeleted,
			containerPolicy{minAge: 58*time.Minute + 30*time.Second, maxPerPodContainer: 1, maxContainers: -1}, "a/c/0"},
		{"containers of no pod are not the agent's", []cri.Container{{ID: "x", State: cri.ContainerExited}}, noneDeleted, kubeletDefault, ""},
		{"node limit: an equal share, then the oldest, never a newest instance",
			append(append(crashLoop("a", "c", 4, cri.ContainerExited), crashLoop("b", "c", 4, cri.ContainerExited)...), crashLoop("z", "c", 2, cri.ContainerRunning)...),
			noneDeleted, containerPolicy{maxPerPodContainer: -1, maxContainers: 2},
			"a/c/0 b/c/0 z/c/0 a/c/1 b/c/1 a/c/2 b/c/2"},
		{"node limit: an equal share is enough", append(crashLoop("a", "c", 3, cri.ContainerRunning), crashLoop("b", "c", 4, cri.ContainerRunning)...),
			noneDeleted, containerPolicy{maxPerPodContainer: -1, maxContainers: 3},
			"a/c/0 b/c/0 b/c/1"},
		{"node limit: then the oldest", append(crashLoop("a", "c", 3, cri.ContainerRunning), crashLoop("b", "c", 4, cri.ContainerRunning)...),
			noneDeleted, containerPolicy{maxPerPodContainer: -1, maxContainers: 1},
			"a/c/0 b/c/0 a/c/1 b/c/1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := planContainers(tc.cs, nil, tc.deleted, tc.policy, now)
			if got := ids(plan.containers); got != tc.want {
				t.Errorf("removes %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPlanSandboxes(t *testing.T) {
	sb := func(id, uid string, minute int, st cri.SandboxState) cri.Sandbox {
		return cri.Sandbox{ID: id, State: st, CreatedAt: t0.Add(time.Duration(minute) * time.Minute), Labels: map[string]string{cri.LabelPodUID: uid}}
	}
	sbs := []cri.Sandbox{
		sb("a0", "a", 0, cri.SandboxNotReady), sb("a1", "a", 1, cri.SandboxNotReady), sb("a2", "a", 2, cri.SandboxNotReady),
		sb("a3", "a", 3, cri.SandboxReady),
		sb("b0", "b", 0, cri.SandboxNotReady), sb("b1", "b", 1, cri.SandboxNotReady),
		sb("d0", "d", 0, cri.SandboxNotReady), sb("d1", "d", 1, cri.SandboxNotReady),
	}
	cs := []cri.Container{
		ctr("a", "c", 0, cri.ContainerExited, "a0"), // goes: a0 is then empty
		ctr("a", "c", 1, cri.ContainerExited, "a1"), // stays (one dead kept): a1 stays
		ctr("a", "c", 2, cri.ContainerRunning, "a3"),
	}
	plan := planContainers(cs, sbs, deletedPods("d"), kubeletDefault, t0.Add(time.Hour))
	if got := ids(plan.containers); got != "a/c/0" {
		t.Errorf("containers %q", got)
	}
	// a0 and a2 hold nothing and are not a's newest; b0 is not b's newest
	// (b1 is kept though not ready); d's are the agent's teardown.
	if got := strings.Join(plan.sandboxes, " "); got != "a0 a2 b0" {
		t.Errorf("sandboxes %q, want a0 a2 b0", got)
	}
}
