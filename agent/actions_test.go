package agent

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodeagent/nodeagent/agent/lifecycle"
	"github.com/nodeagent/nodeagent/cri"
)

var t0 = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

func podSpec(policy corev1.RestartPolicy, inits []string, apps ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "uid1"}}
	p.Spec.RestartPolicy = policy
	for _, n := range inits {
		p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: n, Image: "img"})
	}
	for _, n := range apps {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: n, Image: "img"})
	}
	return p
}

func sandbox(id string, ready bool, attempt int) cri.Sandbox {
	st := cri.SandboxNotReady
	if ready {
		st = cri.SandboxReady
	}
	return cri.Sandbox{ID: id, State: st, Labels: map[string]string{labelSandboxAttempt: fmt.Sprint(attempt)}}
}

// ctr makes a container instance: state "run", "exit:<code>@<seconds ago>" or "created".
func ctr(name, sb string, att int, state string) cri.Container {
	c := cri.Container{ID: fmt.Sprintf("%s-%d", name, att), SandboxID: sb, Image: "img",
		Labels: map[string]string{cri.LabelContainerName: name, cri.LabelAttempt: fmt.Sprint(att)}}
	var code, ago int
	switch {
	case state == "run":
		c.State, c.StartedAt = cri.ContainerRunning, t0.Add(-time.Minute)
	case state == "created":
		c.State = cri.ContainerCreated
	default:
		fmt.Sscanf(state, "exit:%d@%d", &code, &ago)
		c.State, c.ExitCode = cri.ContainerExited, int32(code)
		c.FinishedAt = t0.Add(-time.Duration(ago) * time.Second)
		c.StartedAt = c.FinishedAt.Add(-time.Second)
	}
	return c
}

func TestComputePodActions(t *testing.T) {
	deleting := podSpec(corev1.RestartPolicyAlways, nil, "app")
	deleting.DeletionTimestamp = &metav1.Time{Time: t0}
	cases := []struct {
		name   string
		pod    *corev1.Pod
		state  podState
		want   podActions
		probes probeView
	}{
		{"new pod: sandbox, then the first init container",
			podSpec(corev1.RestartPolicyAlways, []string{"init1", "init2"}, "app"), podState{},
			podActions{createSandbox: true, startInit: []int{0}}, probeView{}},
		{"new pod without init: sandbox and all apps",
			podSpec(corev1.RestartPolicyAlways, nil, "a", "b"), podState{},
			podActions{createSandbox: true, start: []int{0, 1}}, probeView{}},
		{"init 1 done: start init 2",
			podSpec(corev1.RestartPolicyAlways, []string{"init1", "init2"}, "app"),
			podState{sandboxes: []cri.Sandbox{sandbox("sb", true, 0)}, containers: []cri.Container{ctr("init1", "sb", 0, "exit:0@5")}},
			podActions{startInit: []int{1}}, probeView{}},
		{"init running: wait",
			podSpec(corev1.RestartPolicyAlways, []string{"init1"}, "app"),
			podState{sandboxes: []cri.Sandbox{sandbox("sb", true, 0)}, containers: []cri.Container{ctr("init1", "sb", 0, "run")}},
			podActions{}, probeView{}},
		{"inits done: start apps",
			podSpec(corev1.RestartPolicyAlways, []string{"init1"}, "a", "b"),
			podState{sandboxes: []cri.Sandbox{sandbox("sb", true, 0)}, containers: []cri.Container{ctr("init1", "sb", 0, "exit:0@5"), ctr("a", "sb", 0, "run")}},
			podActions{start: []int{1}}, probeView{}},
		{"crashed 3s ago, first restart waits 10s",
			podSpec(corev1.RestartPolicyAlways, nil, "app"),
			podState{sandboxes: []cri.Sandbox{sandbox("sb", true, 0)}, containers: []cri.Container{ctr("app", "sb", 0, "exit:1@3")}},
			podActions{backoff: map[string]time.Duration{"app": 7 * time.Second}}, probeView{}},
		{"crashed 11s ago: restart",
			podSpec(corev1.RestartPolicyAlways, nil, "app"),
			podState{sandboxes: []cri.Sandbox{sandbox("sb", true, 0)}, containers: []cri.Container{ctr("app", "sb", 0, "exit:1@11")}},
			podActions{start: []int{0}}, probeView{}},
		{"third crash waits 40s",
			podSpec(corev1.RestartPolicyAlways, nil, "app"),
			podState{sandboxes: []cri.Sandbox{sandbox("sb", true, 0)}, containers: []cri.Container{ctr("app", "sb", 2, "exit:1@30")}},
			podActions{backoff: map[string]time.Duration{"app": 10 * time.Second}}, probeView{}},
		{"OnFailure does not restart a success",
			podSpec(corev1.RestartPolicyOnFailure, nil, "a", "b"),
			podState{sandboxes: []cri.Sandbox{sandbox("sb", true, 0)}, containers: []cri.Container{ctr("a", "sb", 0, "exit:0@30"), ctr("b", "sb", 0, "exit:2@30")}},
			podActions{start: []int{1}}, probeView{}},
		{"Never and all exited: the pod is done",
			podSpec(corev1.RestartPolicyNever, nil, "a"),
			podState{sandboxes: []cri.Sandbox{sandbox("sb", true, 0)}, containers: []cri.Container{ctr("a", "sb", 0, "exit:1@30")}},
			podActions{killPod: true}, probeView{}},
		{"sandbox died: kill what runs, new sandbox with the next attempt, apps again",
			podSpec(corev1.RestartPolicyAlways, nil, "a"),
			podState{sandboxes: []cri.Sandbox{sandbox("sb", false, 2)}, containers: []cri.Container{ctr("a", "sb", 0, "run")}},
			podActions{createSandbox: true, sandboxAttempt: 3, kill: []killRequest{{id: "a-0", name: "a"}}, start: []int{0}}, probeView{}},
		{"deleted pod: kill everything",
			deleting, podState{sandboxes: []cri.Sandbox{sandbox("sb", true, 0)}, containers: []cri.Container{ctr("app", "sb", 0, "run")}},
			podActions{killPod: true}, probeView{}},
		{"created but never started: start it",
			podSpec(corev1.RestartPolicyAlways, nil, "a"),
			podState{sandboxes: []cri.Sandbox{sandbox("sb", true, 0)}, containers: []cri.Container{ctr("a", "sb", 0, "created")}},
			podActions{start: []int{0}}, probeView{}},
		{"liveness failed: kill it, to be restarted",
			podSpec(corev1.RestartPolicyAlways, nil, "a", "b"),
			podState{sandboxes: []cri.Sandbox{sandbox("sb", true, 0)}, containers: []cri.Container{ctr("a", "sb", 0, "run"), ctr("b", "sb", 0, "run")}},
			podActions{kill: []killRequest{{"b-0", "b", "Container b failed liveness probe, will be restarted", lifecycle.KillLivenessProbe}}},
			probeView{unhealthy: map[string]ProbeKind{"b-0": ProbeLiveness}}},
		{"startup failed, restartPolicy Never: kill it, no restart",
			podSpec(corev1.RestartPolicyNever, nil, "a"),
			podState{sandboxes: []cri.Sandbox{sandbox("sb", true, 0)}, containers: []cri.Container{ctr("a", "sb", 0, "run")}},
			podActions{kill: []killRequest{{"a-0", "a", "Container a failed startup probe", lifecycle.KillStartupProbe}}},
			probeView{unhealthy: map[string]ProbeKind{"a-0": ProbeStartup}}},
		{"a failure of an exited or an older instance kills nothing",
			podSpec(corev1.RestartPolicyAlways, nil, "a"),
			podState{sandboxes: []cri.Sandbox{sandbox("sb", true, 0)}, containers: []cri.Container{ctr("a", "sb", 0, "exit:1@3")}},
			podActions{backoff: map[string]time.Duration{"a": 7 * time.Second}},
			probeView{unhealthy: map[string]ProbeKind{"a-0": ProbeLiveness}}},
	}
	for _, c := range cases {
		got := computePodActions(c.pod, c.state, t0, defaultBackoff, c.probes)
		if c.want.backoff == nil {
			c.want.backoff = map[string]time.Duration{}
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
}

func TestBackoffDelay(t *testing.T) {
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 5 * time.Minute, 5 * time.Minute}
	for att, w := range want {
		c := ctr("a", "sb", att, "exit:1@0")
		if got := defaultBackoff.delay(c); got != w {
			t.Errorf("attempt %d: delay %s, want %s", att, got, w)
		}
	}
	long := ctr("a", "sb", 6, "exit:1@0")
	long.StartedAt = long.FinishedAt.Add(-11 * time.Minute)
	if got := defaultBackoff.delay(long); got != 10*time.Second {
		t.Errorf("after 11 minutes of running the back-off should reset, got %s", got)
	}
}
