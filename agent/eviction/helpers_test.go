package eviction

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
	clocktesting "k8s.io/utils/clock/testing"
)

const mi = 1 << 20

// fakeNode is a node's stats as a summary would report them, with the pods
// on it and what the manager did to them.
type fakeNode struct {
	mu      sync.Mutex
	summary statsapi.Summary
	pods    []*corev1.Pod
	killed  []killed
	events  []string
	// afterReclaim changes the summary when the reclaimer runs.
	afterReclaim      func(*statsapi.Summary)
	reclaims          []int64
	containersDeleted int
	summaries         int // Summary calls
}

type killed struct {
	pod    string
	grace  int64
	status corev1.PodStatus
}

func newFakeNode(memAvailable, memWorkingSet uint64) *fakeNode {
	n := &fakeNode{}
	n.summary.Node.Memory = &statsapi.MemoryStats{AvailableBytes: ptr(memAvailable), WorkingSetBytes: ptr(memWorkingSet)}
	n.summary.Node.Fs = &statsapi.FsStats{AvailableBytes: ptr[uint64](50 << 30), CapacityBytes: ptr[uint64](100 << 30),
		InodesFree: ptr[uint64](900000), Inodes: ptr[uint64](1000000)}
	n.summary.Node.Rlimit = &statsapi.RlimitStats{MaxPID: ptr[int64](100000), NumOfRunningProcesses: ptr[int64](300)}
	return n
}

func (n *fakeNode) Summary(context.Context) (*statsapi.Summary, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.summaries++
	s := n.summary
	return &s, nil
}

func (n *fakeNode) active() []*corev1.Pod {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []*corev1.Pod
	for _, p := range n.pods {
		if p.Status.Phase != corev1.PodFailed {
			out = append(out, p)
		}
	}
	return out
}

func (n *fakeNode) kill(_ context.Context, pod *corev1.Pod, grace int64, status func(*corev1.PodStatus)) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := pod.Status
	status(&s)
	pod.Status = s
	n.killed = append(n.killed, killed{pod: pod.Name, grace: grace, status: s})
	return nil
}

func (n *fakeNode) Eventf(obj runtime.Object, typ, reason, format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.events = append(n.events, reason)
}

func (n *fakeNode) DeleteAllUnusedContainers(context.Context) error {
	n.containersDeleted++
	return nil
}

func (n *fakeNode) DeleteUnusedImages(_ context.Context, bytes int64) (int64, error) {
	n.reclaims = append(n.reclaims, bytes)
	if n.afterReclaim != nil {
		n.afterReclaim(&n.summary)
	}
	return bytes, nil
}

// addPod puts a pod on the node whose one container c uses memBytes of
// memory and diskBytes of logs, with these requests and limits.
func (n *fakeNode) addPod(name string, memBytes, diskBytes uint64, requests, limits corev1.ResourceList) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name)},
		Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Requests: requests, Limits: limits}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	n.pods = append(n.pods, pod)
	n.summary.Pods = append(n.summary.Pods, statsapi.PodStats{PodRef: statsapi.PodReference{Name: name, Namespace: "default", UID: string(pod.UID)},
		Memory:       &statsapi.MemoryStats{WorkingSetBytes: ptr(memBytes)},
		ProcessStats: &statsapi.ProcessStats{ProcessCount: ptr[uint64](1)},
		Containers: []statsapi.ContainerStats{{Name: "c", Memory: &statsapi.MemoryStats{WorkingSetBytes: ptr(memBytes)},
			Logs: &statsapi.FsStats{UsedBytes: ptr(diskBytes), InodesUsed: ptr[uint64](1)}}}})
	return pod
}

func (n *fakeNode) podStats(name string) *statsapi.PodStats {
	for i := range n.summary.Pods {
		if n.summary.Pods[i].PodRef.Name == name {
			return &n.summary.Pods[i]
		}
	}
	return nil
}

func (n *fakeNode) killedNames() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, k := range n.killed {
		out = append(out, k.pod)
	}
	return out
}

func newTestManager(t *testing.T, n *fakeNode, cfg Config) (*Manager, *clocktesting.FakeClock) {
	t.Helper()
	clk := clocktesting.NewFakeClock(time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC))
	return New(cfg, Deps{Summary: n, ActivePods: n.active, KillPod: n.kill, Reclaimer: n, Recorder: n, Clock: clk,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}), clk
}

func mustThresholds(t *testing.T, hard, soft, grace, reclaim map[string]string) []Threshold {
	t.Helper()
	ts, err := ParseThresholds(hard, soft, grace, reclaim)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func res(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i+1 < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

func ptr[T any](v T) *T { return &v }
