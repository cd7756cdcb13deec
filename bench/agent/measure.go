package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/nodeagent/nodeagent/bench/internal/stats"
	"github.com/nodeagent/nodeagent/lab"
)

// benchNamespace holds the bench's pods.
const benchNamespace = "bench"

// podTimeout bounds each wait for one pod's status.
const podTimeout = 2 * time.Minute

// pods creates, deletes and follows the bench's pods.
type pods struct {
	cs    kubernetes.Interface
	tr    *tracker
	image string
	// decorate, if set, changes every pod made (labels, probes).
	decorate func(*corev1.Pod)
}

func (p *pods) spec(name string, policy corev1.RestartPolicy) *corev1.Pod {
	pod := p.plainSpec(name, policy)
	if p.decorate != nil {
		p.decorate(pod)
	}
	return pod
}

func (p *pods) plainSpec(name string, policy corev1.RestartPolicy) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: benchNamespace},
		Spec: corev1.PodSpec{
			RestartPolicy:                 policy,
			TerminationGracePeriodSeconds: ptr.To[int64](1),
			Containers: []corev1.Container{{Name: "c", Image: p.image, ImagePullPolicy: corev1.PullIfNotPresent,
				Args: []string{"serve", "--http", ":8080", "--tcp-echo", fmt.Sprintf(":%d", echoPort)}}},
		},
	}
}

// startOne creates a pod and returns the time from the create call to the
// watch event that shows it Running.
func (p *pods) startOne(ctx context.Context, name string, policy corev1.RestartPolicy) (time.Duration, error) {
	w := p.tr.await(name, isRunning)
	start := time.Now()
	if _, err := p.cs.CoreV1().Pods(benchNamespace).Create(ctx, p.spec(name, policy), metav1.CreateOptions{}); err != nil {
		return 0, fmt.Errorf("create pod %s: %w", name, err)
	}
	at, err := w.wait(ctx, podTimeout)
	return at.Sub(start), err
}

// startSequential starts n pods one after the other.
func (p *pods) startSequential(ctx context.Context, prefix string, n int) (stats.Summary, error) {
	var samples []time.Duration
	began := time.Now()
	for i := 0; i < n; i++ {
		d, err := p.startOne(ctx, fmt.Sprintf("%s-%d", prefix, i), corev1.RestartPolicyAlways)
		if err != nil {
			return stats.Summary{}, err
		}
		samples = append(samples, d)
	}
	return stats.Summarize(samples, time.Since(began)), nil
}

// startTogether creates n pods at once, each from its own goroutine.
func (p *pods) startTogether(ctx context.Context, prefix string, n int, policy corev1.RestartPolicy) (stats.Summary, error) {
	samples := make([]time.Duration, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	began := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			samples[i], errs[i] = p.startOne(ctx, fmt.Sprintf("%s-%d", prefix, i), policy)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return stats.Summary{}, err
		}
	}
	return stats.Summarize(samples, time.Since(began)), nil
}

// deleteAll deletes the namespace's pods and waits until they are gone.
func (p *pods) deleteAll(ctx context.Context) error {
	return p.deleteWhere(ctx, func(string) bool { return true })
}

// deleteWhere deletes the pods whose name matches and waits until they are
// gone.
func (p *pods) deleteWhere(ctx context.Context, match func(name string) bool) error {
	list, err := p.cs.CoreV1().Pods(benchNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	var waits []*waiter
	for _, pod := range list.Items {
		if !match(pod.Name) {
			continue
		}
		waits = append(waits, p.tr.await(pod.Name, isGone))
		err := p.cs.CoreV1().Pods(benchNamespace).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](1)})
		if err != nil {
			return fmt.Errorf("delete pod %s: %w", pod.Name, err)
		}
	}
	for _, w := range waits {
		if _, err := w.wait(ctx, podTimeout); err != nil {
			return err
		}
	}
	return nil
}

// exitGroup is how many pods the exit phase runs at once.
const exitGroup = 10

// exits makes n containers exit, one at a time, and returns the time from
// the moment each exit was triggered (the /exit request written on a
// connected socket) to the watch event whose status shows it. The
// containers are those of pods started exitGroup at a time and deleted
// once each has exited once, before their CrashLoopBackOff (10 s) ends, so
// that no restart competes with the measurement. (restartPolicy Always:
// with Never, the status of a pod that has finished is written after its
// sandbox is torn down, which measures the teardown, not the exit.)
//
// The second stats.Summary is the agent's share: from the exited_at of
// containerd's /tasks/exit event (the shim saw the process gone) to the
// same watch event.
func (p *pods) exits(ctx context.Context, node *lab.Node, ex *exitTimes, n int) (total, agent stats.Summary, err error) {
	var samples, agentSamples []time.Duration
	began := time.Now()
	for g := 0; len(samples) < n; g++ {
		prefix := fmt.Sprintf("exit%d", g)
		k := min(exitGroup, n-len(samples))
		if _, err := p.startTogether(ctx, prefix, k, corev1.RestartPolicyAlways); err != nil {
			return stats.Summary{}, stats.Summary{}, err
		}
		for i := 0; i < k; i++ {
			d, da, err := p.exitOnce(ctx, node, ex, fmt.Sprintf("%s-%d", prefix, i), 0, len(samples)%200+1)
			if err != nil {
				return stats.Summary{}, stats.Summary{}, err
			}
			samples, agentSamples = append(samples, d), append(agentSamples, da)
		}
		if err := p.deleteWhere(ctx, func(name string) bool { return strings.HasPrefix(name, prefix+"-") }); err != nil {
			return stats.Summary{}, stats.Summary{}, err
		}
	}
	wall := time.Since(began)
	return stats.Summarize(samples, wall), stats.Summarize(agentSamples, wall), nil
}

func (p *pods) exitOnce(ctx context.Context, node *lab.Node, ex *exitTimes, name string, restarts int32, code int) (time.Duration, time.Duration, error) {
	if _, err := p.tr.await(name, containerRunning(restarts)).wait(ctx, podTimeout); err != nil {
		return 0, 0, err
	}
	pod := p.tr.get(name)
	ip, id := pod.Status.PodIP, pod.Status.ContainerStatuses[0].ContainerID
	w := p.tr.await(name, exitSeen(restarts))
	start, err := triggerExit(ctx, node, net.JoinHostPort(ip, "8080"), code)
	if err != nil {
		return 0, 0, fmt.Errorf("pod %s: %w", name, err)
	}
	at, err := w.wait(ctx, podTimeout)
	if err != nil {
		return 0, 0, err
	}
	exited, err := ex.exitedAt(ctx, id)
	return at.Sub(start), at.Sub(exited), err
}

// triggerExit connects to the test server from inside the lab node (a
// freshly restarted container may not listen yet: retry the connect for
// 30 s) and asks it to exit. It returns when the request was written.
func triggerExit(ctx context.Context, node *lab.Node, addr string, code int) (time.Time, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := node.DialContext(dctx, "tcp", addr)
		cancel()
		if err == nil {
			defer conn.Close()
			start := time.Now()
			if _, err := fmt.Fprintf(conn, "GET /exit?code=%d HTTP/1.0\r\n\r\n", code); err != nil {
				return start, err
			}
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			io.Copy(io.Discard, conn)
			return start, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return time.Time{}, fmt.Errorf("connect %s: %w", addr, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}
