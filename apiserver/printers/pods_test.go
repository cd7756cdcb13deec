package printers

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Container states and statuses for the pod tables.
func running() corev1.ContainerState {
	return corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ago(time.Minute)}}
}

func waiting(reason string) corev1.ContainerState {
	return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}
}

func terminated(reason string, exit, signal int32) corev1.ContainerState {
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: exit, Signal: signal}}
}

func status(name string, ready bool, st corev1.ContainerState) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, Ready: ready, State: st}
}

// restarted gives a status restart count n, the last run having finished
// finished ago.
func restarted(cs corev1.ContainerStatus, n int32, finished time.Duration) corev1.ContainerStatus {
	cs.RestartCount = n
	cs.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: 1, Reason: "Error", FinishedAt: ago(finished)}}
	return cs
}

func started(cs corev1.ContainerStatus) corev1.ContainerStatus {
	t := true
	cs.Started = &t
	return cs
}

func condition(t corev1.PodConditionType, s corev1.ConditionStatus) corev1.PodCondition {
	return corev1.PodCondition{Type: t, Status: s}
}

// pod has one regular container per status, and init containers named
// after the init statuses (sidecars when sidecar is set).
func pod(phase corev1.PodPhase, init, regular []corev1.ContainerStatus, sidecar ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: objectMeta("web")}
	p.Status.Phase = phase
	always := corev1.ContainerRestartPolicyAlways
	for _, cs := range init {
		c := corev1.Container{Name: cs.Name}
		for _, s := range sidecar {
			if s == cs.Name {
				c.RestartPolicy = &always
			}
		}
		p.Spec.InitContainers = append(p.Spec.InitContainers, c)
	}
	for _, cs := range regular {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: cs.Name})
	}
	p.Status.InitContainerStatuses, p.Status.ContainerStatuses = init, regular
	return p
}

func TestPodReadyStatusRestarts(t *testing.T) {
	tests := []struct {
		name   string
		pod    *corev1.Pod
		edit   func(*corev1.Pod)
		ready  string
		status string
		restts string
	}{
		{name: "running", pod: pod(corev1.PodRunning, nil, []corev1.ContainerStatus{
			status("a", true, running()), status("b", true, running())}),
			ready: "2/2", status: "Running", restts: "0"},
		{name: "one of two ready", pod: pod(corev1.PodRunning, nil, []corev1.ContainerStatus{
			status("a", true, running()), status("b", false, running())}),
			ready: "1/2", status: "Running", restts: "0"},
		{name: "pending without statuses", pod: pod(corev1.PodPending, nil, nil),
			edit:  func(p *corev1.Pod) { p.Spec.Containers = []corev1.Container{{Name: "a"}} },
			ready: "0/1", status: "Pending", restts: "0"},
		{name: "container creating", pod: pod(corev1.PodPending, nil, []corev1.ContainerStatus{
			status("a", false, waiting("ContainerCreating"))}),
			ready: "0/1", status: "ContainerCreating", restts: "0"},
		{name: "image pull error", pod: pod(corev1.PodPending, nil, []corev1.ContainerStatus{
			status("a", false, waiting("ErrImagePull"))}),
			ready: "0/1", status: "ErrImagePull", restts: "0"},
		{name: "crash loop with restart time", pod: pod(corev1.PodRunning, nil, []corev1.ContainerStatus{
			restarted(status("a", false, waiting("CrashLoopBackOff")), 3, 12*time.Second)}),
			ready: "0/1", status: "CrashLoopBackOff", restts: "3 (12s ago)"},
		{name: "restarts without finish time", pod: pod(corev1.PodRunning, nil, []corev1.ContainerStatus{
			func() corev1.ContainerStatus { cs := status("a", true, running()); cs.RestartCount = 2; return cs }()}),
			ready: "1/1", status: "Running", restts: "2"},
		{name: "restarts summed, latest finish wins", pod: pod(corev1.PodRunning, nil, []corev1.ContainerStatus{
			restarted(status("a", true, running()), 1, 3*time.Hour), restarted(status("b", true, running()), 4, 5*time.Minute)}),
			ready: "2/2", status: "Running", restts: "5 (5m ago)"},
		{name: "completed", pod: pod(corev1.PodSucceeded, nil, []corev1.ContainerStatus{
			status("a", false, terminated("Completed", 0, 0))}),
			ready: "0/1", status: "Completed", restts: "0"},
		{name: "error", pod: pod(corev1.PodFailed, nil, []corev1.ContainerStatus{
			status("a", false, terminated("Error", 1, 0))}),
			ready: "0/1", status: "Error", restts: "0"},
		{name: "killed by signal without reason", pod: pod(corev1.PodFailed, nil, []corev1.ContainerStatus{
			status("a", false, terminated("", 137, 9))}),
			ready: "0/1", status: "Signal:9", restts: "0"},
		{name: "exit code without reason", pod: pod(corev1.PodFailed, nil, []corev1.ContainerStatus{
			status("a", false, terminated("", 1, 0))}),
			ready: "0/1", status: "ExitCode:1", restts: "0"},
		{name: "first container's state wins", pod: pod(corev1.PodRunning, nil, []corev1.ContainerStatus{
			status("a", false, waiting("CrashLoopBackOff")), status("b", false, waiting("ImagePullBackOff"))}),
			ready: "0/2", status: "CrashLoopBackOff", restts: "0"},
		{name: "completed next to running and ready", pod: pod(corev1.PodRunning, nil, []corev1.ContainerStatus{
			status("a", false, terminated("Completed", 0, 0)), status("b", true, running())}),
			edit: func(p *corev1.Pod) {
				p.Status.Conditions = []corev1.PodCondition{condition(corev1.PodReady, corev1.ConditionTrue)}
			},
			ready: "1/2", status: "Running", restts: "0"},
		{name: "completed next to running, pod not ready", pod: pod(corev1.PodRunning, nil, []corev1.ContainerStatus{
			status("a", false, terminated("Completed", 0, 0)), status("b", true, running())}),
			edit: func(p *corev1.Pod) {
				p.Status.Conditions = []corev1.PodCondition{condition(corev1.PodReady, corev1.ConditionFalse)}
			},
			ready: "1/2", status: "NotReady", restts: "0"},
		{name: "init waiting to start", pod: pod(corev1.PodPending, []corev1.ContainerStatus{
			status("init", false, waiting("PodInitializing"))}, []corev1.ContainerStatus{status("a", false, waiting("PodInitializing"))}),
			ready: "0/1", status: "Init:0/1", restts: "0"},
		{name: "second init running", pod: pod(corev1.PodPending, []corev1.ContainerStatus{
			status("i1", false, terminated("Completed", 0, 0)), status("i2", false, running())},
			[]corev1.ContainerStatus{status("a", false, waiting("PodInitializing"))}),
			ready: "0/1", status: "Init:1/2", restts: "0"},
		{name: "init crash loop", pod: pod(corev1.PodPending, []corev1.ContainerStatus{
			restarted(status("init", false, waiting("CrashLoopBackOff")), 4, time.Minute)},
			[]corev1.ContainerStatus{status("a", false, waiting("PodInitializing"))}),
			ready: "0/1", status: "Init:CrashLoopBackOff", restts: "4 (60s ago)"},
		{name: "init error", pod: pod(corev1.PodPending, []corev1.ContainerStatus{
			status("init", false, terminated("Error", 1, 0))}, nil),
			ready: "0/0", status: "Init:Error", restts: "0"},
		{name: "init exit code", pod: pod(corev1.PodPending, []corev1.ContainerStatus{
			status("init", false, terminated("", 2, 0))}, nil),
			ready: "0/0", status: "Init:ExitCode:2", restts: "0"},
		{name: "init signal", pod: pod(corev1.PodPending, []corev1.ContainerStatus{
			status("init", false, terminated("", 143, 15))}, nil),
			ready: "0/0", status: "Init:Signal:15", restts: "0"},
		{name: "init done, containers run", pod: pod(corev1.PodRunning, []corev1.ContainerStatus{
			restarted(status("init", false, terminated("Completed", 0, 0)), 2, time.Hour)},
			[]corev1.ContainerStatus{status("a", true, running())}),
			ready: "1/1", status: "Running", restts: "0"},
		{name: "started sidecar counts", pod: pod(corev1.PodRunning, []corev1.ContainerStatus{
			restarted(started(status("proxy", true, running())), 1, 30*time.Second)},
			[]corev1.ContainerStatus{status("a", true, running())}, "proxy"),
			ready: "2/2", status: "Running", restts: "1 (30s ago)"},
		{name: "sidecar not started yet", pod: pod(corev1.PodPending, []corev1.ContainerStatus{
			status("proxy", false, running())}, []corev1.ContainerStatus{status("a", false, waiting("PodInitializing"))}, "proxy"),
			ready: "0/2", status: "Init:0/1", restts: "0"},
		{name: "status reason", pod: pod(corev1.PodFailed, nil, nil),
			edit:  func(p *corev1.Pod) { p.Status.Reason = "Evicted" },
			ready: "0/0", status: "Evicted", restts: "0"},
		{name: "scheduling gated", pod: pod(corev1.PodPending, nil, nil),
			edit: func(p *corev1.Pod) {
				p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "SchedulingGated"}}
			},
			ready: "0/0", status: "SchedulingGated", restts: "0"},
		{name: "terminating", pod: pod(corev1.PodRunning, nil, []corev1.ContainerStatus{status("a", true, running())}),
			edit:  func(p *corev1.Pod) { p.DeletionTimestamp = agoPtr(time.Second) },
			ready: "1/1", status: "Terminating", restts: "0"},
		{name: "deleted after completion stays completed", pod: pod(corev1.PodSucceeded, nil, []corev1.ContainerStatus{
			status("a", false, terminated("Completed", 0, 0))}),
			edit:  func(p *corev1.Pod) { p.DeletionTimestamp = agoPtr(time.Second) },
			ready: "0/1", status: "Completed", restts: "0"},
		{name: "deleted on a lost node", pod: pod(corev1.PodRunning, nil, []corev1.ContainerStatus{status("a", true, running())}),
			edit:  func(p *corev1.Pod) { p.DeletionTimestamp = agoPtr(time.Second); p.Status.Reason = "NodeLost" },
			ready: "1/1", status: "Unknown", restts: "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.edit != nil {
				tt.edit(tt.pod)
			}
			cells := row(t, "pods", tt.pod)
			got := [3]interface{}{cells[1], cells[2], cells[3]}
			if want := [3]interface{}{tt.ready, tt.status, tt.restts}; got != want {
				t.Errorf("READY, STATUS, RESTARTS = %q, want %q", got, want)
			}
		})
	}
}

func TestPodRow(t *testing.T) {
	p := pod(corev1.PodRunning, nil, []corev1.ContainerStatus{status("a", true, running())})
	checkCells(t, row(t, "pods", p), []interface{}{"web", "1/1", "Running", "0", "10m", "<none>", "<none>", "<none>", "<none>"})

	p.Spec.NodeName = "node-1"
	p.Status.PodIP, p.Status.PodIPs = "10.0.0.5", []corev1.PodIP{{IP: "10.0.0.5"}, {IP: "fd00::5"}}
	p.Status.NominatedNodeName = "node-2"
	p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "example.com/lb"}, {ConditionType: "example.com/dns"}}
	p.Status.Conditions = []corev1.PodCondition{condition("example.com/lb", corev1.ConditionTrue), condition("example.com/dns", corev1.ConditionFalse)}
	checkCells(t, row(t, "pods", p), []interface{}{"web", "1/1", "Running", "0", "10m", "10.0.0.5", "node-1", "node-2", "1/2"})
}

func TestPodColumns(t *testing.T) {
	p, _ := For("pods")
	cols := p.Columns()
	if got, want := header(cols, false), "NAME | READY | STATUS | RESTARTS | AGE"; got != want {
		t.Errorf("header %q, want %q", got, want)
	}
	if got, want := header(cols, true), "NAME | READY | STATUS | RESTARTS | AGE | IP | NODE | NOMINATED NODE | READINESS GATES"; got != want {
		t.Errorf("wide header %q, want %q", got, want)
	}
	if cols[0].Format != "name" || cols[0].Description == "" {
		t.Errorf("name column %+v", cols[0])
	}
}

func TestPodConditions(t *testing.T) {
	tests := []struct {
		phase  corev1.PodPhase
		reason string // "" for no condition
	}{
		{corev1.PodPending, ""},
		{corev1.PodRunning, ""},
		{corev1.PodSucceeded, "Succeeded"},
		{corev1.PodFailed, "Failed"},
	}
	for _, tt := range tests {
		tbl, err := Table(podPrinter(), objs(pod(tt.phase, nil, nil)), now, metav1.IncludeNone)
		if err != nil {
			t.Fatal(err)
		}
		conds := tbl.Rows[0].Conditions
		switch {
		case tt.reason == "" && len(conds) != 0:
			t.Errorf("%s: conditions %+v, want none", tt.phase, conds)
		case tt.reason != "" && (len(conds) != 1 || conds[0].Type != metav1.RowCompleted || conds[0].Reason != tt.reason):
			t.Errorf("%s: conditions %+v, want Completed/%s", tt.phase, conds, tt.reason)
		}
	}
}
