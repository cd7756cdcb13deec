package agent

import (
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodeagent/nodeagent/agent/lifecycle"
	"github.com/nodeagent/nodeagent/cri"
)

// actionCase is one decision of computePodActions.
type actionCase struct {
	name   string
	pod    *corev1.Pod
	state  podState
	probes probeView
	want   podActions
}

func checkActions(t *testing.T, cases []actionCase) {
	t.Helper()
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

// sidecarPod is podSpec whose init containers named side* are sidecars
// (restartPolicy Always).
func sidecarPod(inits []string, apps ...string) *corev1.Pod {
	p := podSpec(corev1.RestartPolicyAlways, inits, apps...)
	always := corev1.ContainerRestartPolicyAlways
	for i := range p.Spec.InitContainers {
		if strings.HasPrefix(p.Spec.InitContainers[i].Name, "side") {
			p.Spec.InitContainers[i].RestartPolicy = &always
		}
	}
	return p
}

func running(cs ...cri.Container) podState {
	return podState{sandboxes: []cri.Sandbox{sandbox("sb", true, 0)}, containers: cs}
}

// TestComputePodActionsSidecars: sidecars start in order, each once the
// one before it has started (its startup probe passed), the app
// containers after all of them; a sidecar that fails a probe or exits is
// restarted while the app containers run on.
func TestComputePodActionsSidecars(t *testing.T) {
	checkActions(t, []actionCase{
		{name: "a sidecar whose startup probe has not passed holds the next init container and the apps",
			pod:    sidecarPod([]string{"side1", "init2"}, "app"),
			state:  running(ctr("side1", "sb", 0, "run")),
			probes: probeView{notStarted: map[string]bool{"side1-0": true}},
			want:   podActions{}},
		{name: "a started sidecar lets the next init container start",
			pod:   sidecarPod([]string{"side1", "init2"}, "app"),
			state: running(ctr("side1", "sb", 0, "run")),
			want:  podActions{startInit: []int{1}}},
		{name: "sidecars started and init done: the apps start",
			pod:   sidecarPod([]string{"side1", "init2", "side3"}, "app"),
			state: running(ctr("side1", "sb", 0, "run"), ctr("init2", "sb", 0, "exit:0@2"), ctr("side3", "sb", 0, "run")),
			want:  podActions{start: []int{0}}},
		{name: "a sidecar that failed its startup probe before the apps ran: killed and started again",
			pod:    sidecarPod([]string{"side1"}, "app"),
			state:  running(ctr("side1", "sb", 0, "run")),
			probes: probeView{unhealthy: map[string]ProbeKind{"side1-0": ProbeStartup}, notStarted: map[string]bool{"side1-0": true}},
			want: podActions{kill: []killRequest{{"side1-0", "side1", "Init container side1 failed startup probe", lifecycle.KillStartupProbe}},
				startInit: []int{0}}},
		{name: "a sidecar failing liveness while the apps run: killed and started again, the apps go on",
			pod:    sidecarPod([]string{"side1"}, "app"),
			state:  running(ctr("side1", "sb", 0, "run"), ctr("app", "sb", 0, "run")),
			probes: probeView{unhealthy: map[string]ProbeKind{"side1-0": ProbeLiveness}},
			want: podActions{kill: []killRequest{{"side1-0", "side1", "Init container side1 failed liveness probe", lifecycle.KillLivenessProbe}},
				startInit: []int{0}}},
		{name: "a sidecar that exited 3s ago while the apps run waits for its back-off, the apps go on",
			pod:   sidecarPod([]string{"side1"}, "app"),
			state: running(ctr("side1", "sb", 0, "exit:1@3"), ctr("app", "sb", 0, "run")),
			want:  podActions{backoff: map[string]time.Duration{"side1": 7 * time.Second}}},
		{name: "a sidecar that exited 11s ago while the apps run starts again, regular init containers do not",
			pod:   sidecarPod([]string{"init0", "side1"}, "app"),
			state: running(ctr("init0", "sb", 0, "exit:0@60"), ctr("side1", "sb", 0, "exit:0@11"), ctr("app", "sb", 0, "exit:1@30")),
			want:  podActions{startInit: []int{1}, start: []int{0}}},
		{name: "a regular init container that failed restarts after its back-off (OnFailure)",
			pod:   podSpec(corev1.RestartPolicyOnFailure, []string{"init1"}, "app"),
			state: running(ctr("init1", "sb", 0, "exit:1@3")),
			want:  podActions{backoff: map[string]time.Duration{"init1": 7 * time.Second}}},
	})
}

// deadlinePod has activeDeadlineSeconds 30 and started at startedAgo
// before t0 (nil: not started).
func deadlinePod(startedAgo *time.Duration, phase corev1.PodPhase, reason string) *corev1.Pod {
	p := podSpec(corev1.RestartPolicyAlways, nil, "app")
	d := int64(30)
	p.Spec.ActiveDeadlineSeconds = &d
	if startedAgo != nil {
		p.Status.StartTime = &metav1.Time{Time: t0.Add(-*startedAgo)}
	}
	p.Status.Phase, p.Status.Reason = phase, reason
	return p
}

// TestComputePodActionsActiveDeadline: a pod that ran its
// activeDeadlineSeconds is killed and failed (once: a pod failed for it
// is only kept dead).
func TestComputePodActionsActiveDeadline(t *testing.T) {
	ago := func(s int) *time.Duration { d := time.Duration(s) * time.Second; return &d }
	app := running(ctr("app", "sb", 0, "run"))
	checkActions(t, []actionCase{
		{name: "not started yet: no deadline", pod: deadlinePod(nil, corev1.PodPending, ""), state: podState{},
			want: podActions{createSandbox: true, start: []int{0}}},
		{name: "29s in: runs on", pod: deadlinePod(ago(29), corev1.PodRunning, ""), state: app, want: podActions{}},
		{name: "30s in: past its deadline", pod: deadlinePod(ago(30), corev1.PodRunning, ""), state: app,
			want: podActions{killPod: true, deadlineExceeded: true}},
		{name: "failed for its deadline already: kept dead, nothing new",
			pod: deadlinePod(ago(90), corev1.PodFailed, lifecycle.ReasonDeadlineExceeded), state: app, want: podActions{killPod: true}},
	})
}
