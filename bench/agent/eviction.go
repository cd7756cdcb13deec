package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/nodeagent/nodeagent/bench/internal/stats"
)

// The eviction phase: memory.available's hard threshold is set evictionMargin
// below what the node has when the phase starts, and a Guaranteed pod
// takes hogBytes (a tmpfs it fills, bounded by its own limit), which
// crosses it; a BestEffort pod beside it is the first to go.
const (
	evictionMargin = 512 << 20
	hogBytes       = 1 << 30
	// evictionTransition is the agent's --eviction-pressure-transition-period
	// in the phase, short so that rounds follow each other quickly.
	evictionTransition = 5 * time.Second
)

// evictionResults are the eviction phase's figures, from the moment the
// bench sees memory.available below the threshold.
type evictionResults struct {
	skipped             string // why the phase did not run
	condition, eviction stats.Summary
}

// measureEviction restarts the agent with a raised memory.available
// threshold and times, over rounds, the crossing to MemoryPressure in the
// API and to the BestEffort pod's eviction.
func measureEviction(ctx context.Context, cfg config, b *benchNode, p *pods, progress io.Writer) (evictionResults, error) {
	var r evictionResults
	avail, err := memoryAvailable()
	if err != nil {
		r.skipped = err.Error()
		return r, nil
	}
	threshold := avail - evictionMargin
	fmt.Fprintf(progress, "==> eviction: agent restarted with memory.available<%s, %d rounds\n", stats.MiB(uint64(threshold)), cfg.EvictionRounds)
	b.agent.stop()
	if err := b.startAgent(fmt.Sprintf("--eviction-hard=memory.available<%d", threshold),
		"--eviction-pressure-transition-period="+evictionTransition.String()); err != nil {
		return r, err
	}
	if err := b.poll(ctx, 60*time.Second, b.agent, func() error { return nodeReady(ctx, p.cs, b.name) }); err != nil {
		return r, err
	}
	var conds, evicts []time.Duration
	began := time.Now()
	for i := 0; i < cfg.EvictionRounds; i++ {
		c, e, err := evictionRound(ctx, b, p, threshold, i)
		if err != nil {
			return r, fmt.Errorf("eviction round %d: %w", i, err)
		}
		conds, evicts = append(conds, c), append(evicts, e)
	}
	r.condition, r.eviction = stats.Summarize(conds, time.Since(began)), stats.Summarize(evicts, time.Since(began))
	return r, nil
}

// evictionRound starts the BestEffort victim, then the hog, and times the
// crossing to the condition and to the victim's eviction; it deletes both
// and waits for the condition to clear.
func evictionRound(ctx context.Context, b *benchNode, p *pods, threshold int64, i int) (cond, evict time.Duration, err error) {
	victim, hog := fmt.Sprintf("victim-%d", i), fmt.Sprintf("hog-%d", i)
	if _, err := p.startOne(ctx, victim, corev1.RestartPolicyAlways); err != nil {
		return 0, 0, err
	}
	evicted := p.tr.await(victim, isEvicted)
	if _, err := p.cs.CoreV1().Pods(benchNamespace).Create(ctx, hogSpec(p, hog), metav1.CreateOptions{}); err != nil {
		return 0, 0, err
	}
	crossed, err := waitCrossing(ctx, threshold)
	if err != nil {
		return 0, 0, err
	}
	condAt, err := waitPressure(ctx, p.cs, b.name, corev1.ConditionTrue)
	if err != nil {
		return 0, 0, err
	}
	evictAt, err := evicted.wait(ctx, podTimeout)
	if err != nil {
		return 0, 0, err
	}
	if err := p.deleteAll(ctx); err != nil {
		return 0, 0, err
	}
	if _, err := waitPressure(ctx, p.cs, b.name, corev1.ConditionFalse); err != nil {
		return 0, 0, err
	}
	return condAt.Sub(crossed), evictAt.Sub(crossed), nil
}

// hogSpec is a Guaranteed pod that fills a memory-backed emptyDir with
// hogBytes and holds it.
func hogSpec(p *pods, name string) *corev1.Pod {
	pod := p.plainSpec(name, corev1.RestartPolicyAlways)
	mem := resource.MustParse("1200Mi")
	size := resource.MustParse("1100Mi")
	c := &pod.Spec.Containers[0]
	c.Command = []string{"sh", "-c", fmt.Sprintf("dd if=/dev/zero of=/hog/fill bs=1M count=%d && exec testserver pause", hogBytes>>20)}
	c.Args = nil
	c.Resources = corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: mem},
		Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: mem}}
	c.VolumeMounts = []corev1.VolumeMount{{Name: "hog", MountPath: "/hog"}}
	pod.Spec.Volumes = []corev1.Volume{{Name: "hog", VolumeSource: corev1.VolumeSource{
		EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: &size}}}}
	return pod
}

func isEvicted(p *corev1.Pod) bool {
	return p != nil && p.Status.Phase == corev1.PodFailed && p.Status.Reason == "Evicted"
}

// waitCrossing samples memory.available every 20 ms until it is below
// threshold and returns when it first saw it so.
func waitCrossing(ctx context.Context, threshold int64) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, podTimeout)
	defer cancel()
	for {
		if avail, err := memoryAvailable(); err == nil && avail < threshold {
			return time.Now(), nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("memory.available never below the threshold: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitPressure polls the node every 50 ms until its MemoryPressure has
// status want, and returns when it saw it.
func waitPressure(ctx context.Context, cs kubernetes.Interface, node string, want corev1.ConditionStatus) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, podTimeout)
	defer cancel()
	for {
		if n, err := cs.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{}); err == nil {
			for _, c := range n.Status.Conditions {
				if c.Type == corev1.NodeMemoryPressure && c.Status == want {
					return time.Now(), nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("MemoryPressure never %s: %w", want, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// memoryAvailable is memory.available as the agent (and kubelet) measures
// it: the node's memory less the root cgroup's working set. cgroup v1.
func memoryAvailable() (int64, error) {
	root := "/sys/fs/cgroup/memory"
	usage, err := readNumber(filepath.Join(root, "memory.usage_in_bytes"), "")
	if err != nil {
		return 0, errors.New("needs cgroup v1's memory hierarchy")
	}
	inactive, err := readNumber(filepath.Join(root, "memory.stat"), "total_inactive_file")
	if err != nil {
		return 0, err
	}
	totalKB, err := readNumber("/proc/meminfo", "MemTotal:")
	if err != nil {
		return 0, err
	}
	return totalKB*1024 - (usage - inactive), nil
}

// readNumber reads a file's number, or the number after key on its line.
func readNumber(path, key string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	if key == "" {
		return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == key {
			return strconv.ParseInt(f[1], 10, 64)
		}
	}
	return 0, fmt.Errorf("%s: no %s", path, key)
}

func reportEviction(w io.Writer, r evictionResults) {
	if r.skipped != "" {
		fmt.Fprintf(w, "%-26s skipped: %s\n", "eviction", r.skipped)
		return
	}
	line(w, "threshold -> condition", r.condition, "memory.available below the hard threshold (sampled every 20 ms) -> MemoryPressure True in the API; goal <= 10 s")
	line(w, "threshold -> eviction", r.eviction, "-> the BestEffort pod Failed/Evicted in a watch event (a Guaranteed pod filling 1 GiB crossed it); goal <= 10 s")
	fmt.Fprintf(w, "%-26s (the agent passes every 10 s, kubelet's housekeeping period, reads memory.available alone every second between passes, and posts the node's status as soon as a condition changes)\n", "")
}
