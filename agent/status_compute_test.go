package agent

import (
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/nodeagent/nodeagent/cri"
)

func cond(s corev1.PodStatus, t corev1.PodConditionType) corev1.ConditionStatus {
	for _, c := range s.Conditions {
		if c.Type == t {
			return c.Status
		}
	}
	return ""
}

func TestComputePodStatus(t *testing.T) {
	sb := sandbox("sb", true, 0)
	sb.Labels[labelPodIPs] = "10.244.0.7"
	type want struct {
		phase       corev1.PodPhase
		ready, init corev1.ConditionStatus
		state       string // of the first app container: running, waiting:<reason>, terminated:<reason>
		restarts    int32
		lastExit    int32
		podIP       string
	}
	cases := []struct {
		name    string
		pod     *corev1.Pod
		st      podState
		waiting map[string]waitingInfo
		want    want
	}{
		{"nothing yet", podSpec(corev1.RestartPolicyAlways, nil, "a"), podState{}, nil,
			want{phase: corev1.PodPending, ready: "False", init: "True", state: "waiting:ContainerCreating"}},
		{"init running", podSpec(corev1.RestartPolicyAlways, []string{"i"}, "a"),
			podState{sandboxes: []cri.Sandbox{sb}, containers: []cri.Container{ctr("i", "sb", 0, "run")}}, nil,
			want{phase: corev1.PodPending, ready: "False", init: "False", state: "waiting:PodInitializing", podIP: "10.244.0.7"}},
		{"running", podSpec(corev1.RestartPolicyAlways, []string{"i"}, "a"),
			podState{sandboxes: []cri.Sandbox{sb}, containers: []cri.Container{ctr("i", "sb", 0, "exit:0@9"), ctr("a", "sb", 0, "run")}}, nil,
			want{phase: corev1.PodRunning, ready: "True", init: "True", state: "running", podIP: "10.244.0.7"}},
		{"crash loop", podSpec(corev1.RestartPolicyAlways, nil, "a"),
			podState{sandboxes: []cri.Sandbox{sb}, containers: []cri.Container{ctr("a", "sb", 2, "exit:1@3"), ctr("a", "sb", 1, "exit:1@30")}},
			map[string]waitingInfo{"a": {reason: "CrashLoopBackOff"}},
			want{phase: corev1.PodRunning, ready: "False", init: "True", state: "waiting:CrashLoopBackOff", restarts: 2, lastExit: 1, podIP: "10.244.0.7"}},
		{"completed", podSpec(corev1.RestartPolicyNever, nil, "a"),
			podState{sandboxes: []cri.Sandbox{sb}, containers: []cri.Container{ctr("a", "sb", 0, "exit:0@3")}}, nil,
			want{phase: corev1.PodSucceeded, ready: "False", init: "True", state: "terminated:Completed", podIP: "10.244.0.7"}},
		{"failed", podSpec(corev1.RestartPolicyNever, nil, "a"),
			podState{sandboxes: []cri.Sandbox{sb}, containers: []cri.Container{ctr("a", "sb", 0, "exit:2@3")}}, nil,
			want{phase: corev1.PodFailed, ready: "False", init: "True", state: "terminated:Error", podIP: "10.244.0.7"}},
		{"image pull error", podSpec(corev1.RestartPolicyAlways, nil, "a"), podState{sandboxes: []cri.Sandbox{sb}},
			map[string]waitingInfo{"a": {reason: "ErrImagePull", message: "not found"}},
			want{phase: corev1.PodPending, ready: "False", init: "True", state: "waiting:ErrImagePull", podIP: "10.244.0.7"}},
	}
	for _, c := range cases {
		s := computePodStatus(c.pod, c.st, c.waiting, "192.0.2.1", t0)
		cs := s.ContainerStatuses[0]
		state := "running"
		switch {
		case cs.State.Waiting != nil:
			state = "waiting:" + cs.State.Waiting.Reason
		case cs.State.Terminated != nil:
			state = "terminated:" + cs.State.Terminated.Reason
		}
		var lastExit int32
		if cs.LastTerminationState.Terminated != nil {
			lastExit = cs.LastTerminationState.Terminated.ExitCode
		}
		got := want{phase: s.Phase, ready: cond(s, corev1.PodReady), init: cond(s, corev1.PodInitialized), state: state,
			restarts: cs.RestartCount, lastExit: lastExit, podIP: s.PodIP}
		if got != c.want {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
		if s.HostIP != "192.0.2.1" || s.StartTime == nil {
			t.Errorf("%s: hostIP %q startTime %v", c.name, s.HostIP, s.StartTime)
		}
	}
}

func TestConditionTransitionTimeIsKept(t *testing.T) {
	pod := podSpec(corev1.RestartPolicyAlways, nil, "a")
	st := podState{sandboxes: []cri.Sandbox{sandbox("sb", true, 0)}, containers: []cri.Container{ctr("a", "sb", 0, "run")}}
	first := computePodStatus(pod, st, nil, "", t0)
	pod.Status = first
	second := computePodStatus(pod, st, nil, "", t0.Add(time.Minute))
	for i := range second.Conditions {
		if !second.Conditions[i].LastTransitionTime.Equal(&first.Conditions[i].LastTransitionTime) {
			t.Errorf("%s moved its transition time without a transition", second.Conditions[i].Type)
		}
	}
}

// TestStatusSurvivesTheAPIRoundTrip: the runtime's nanosecond times must
// not make a status read back from the API differ from the computed one
// (each sync would write it again, forever).
func TestStatusSurvivesTheAPIRoundTrip(t *testing.T) {
	pod := podSpec(corev1.RestartPolicyAlways, []string{"i"}, "a")
	run, done := ctr("a", "sb", 0, "run"), ctr("i", "sb", 0, "exit:0@9")
	run.StartedAt = run.StartedAt.Add(123456789 * time.Nanosecond)
	done.FinishedAt = done.FinishedAt.Add(987654321 * time.Nanosecond)
	st := podState{sandboxes: []cri.Sandbox{sandbox("sb", true, 0)}, containers: []cri.Container{done, run}}
	computed := computePodStatus(pod, st, nil, "192.0.2.1", t0.Add(500*time.Millisecond))
	raw, err := json.Marshal(computed)
	if err != nil {
		t.Fatal(err)
	}
	var back corev1.PodStatus
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(computed, back) {
		t.Fatalf("the status read back differs from the computed one:\n%+v\n%+v", computed, back)
	}
	pod.Status = back
	if again := computePodStatus(pod, st, nil, "192.0.2.1", t0.Add(time.Minute)); !equality.Semantic.DeepEqual(again, back) {
		t.Fatalf("a second sync computes another status:\n%+v\n%+v", again, back)
	}
}
