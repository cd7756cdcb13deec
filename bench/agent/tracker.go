package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// tracker follows the pods of one namespace through a watch and tells
// waiters when a pod first satisfies a condition, with the time the
// event that satisfied it arrived.
type tracker struct {
	mu      sync.Mutex
	pods    map[string]*corev1.Pod
	waiters map[*waiter]bool
}

type waiter struct {
	name string
	cond func(*corev1.Pod) bool
	at   chan time.Time // gets one value
}

// startTracker lists the namespace's pods and watches them until ctx ends.
func startTracker(ctx context.Context, cs kubernetes.Interface, ns string) (*tracker, error) {
	list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	rw, err := watchtools.NewRetryWatcherWithContext(ctx, list.ResourceVersion, &cache.ListWatch{
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return cs.CoreV1().Pods(ns).Watch(ctx, o)
		}})
	if err != nil {
		return nil, err
	}
	t := &tracker{pods: map[string]*corev1.Pod{}, waiters: map[*waiter]bool{}}
	for i := range list.Items {
		t.pods[list.Items[i].Name] = &list.Items[i]
	}
	go t.run(ctx, rw)
	return t, nil
}

func (t *tracker) run(ctx context.Context, rw *watchtools.RetryWatcher) {
	defer rw.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-rw.ResultChan():
			if !ok {
				return
			}
			if pod, isPod := ev.Object.(*corev1.Pod); isPod {
				t.observe(ev.Type, pod, time.Now())
			}
		}
	}
}

func (t *tracker) observe(typ watch.EventType, pod *corev1.Pod, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if typ == watch.Deleted {
		delete(t.pods, pod.Name)
	} else {
		t.pods[pod.Name] = pod
	}
	for w := range t.waiters {
		if w.name == pod.Name && w.cond(t.pods[pod.Name]) {
			w.at <- at
			delete(t.waiters, w)
		}
	}
}

// await registers a waiter before the change it waits for is made, so
// that no event is missed. cond gets nil once the pod is deleted.
func (t *tracker) await(name string, cond func(*corev1.Pod) bool) *waiter {
	w := &waiter{name: name, cond: cond, at: make(chan time.Time, 1)}
	t.mu.Lock()
	defer t.mu.Unlock()
	if cond(t.pods[name]) {
		w.at <- time.Now()
		return w
	}
	t.waiters[w] = true
	return w
}

// wait returns when the waiter's condition was first seen.
func (w *waiter) wait(ctx context.Context, timeout time.Duration) (time.Time, error) {
	select {
	case at := <-w.at:
		return at, nil
	case <-time.After(timeout):
		return time.Time{}, fmt.Errorf("pod %s: condition not seen within %s", w.name, timeout)
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	}
}

// get returns the latest copy of a pod, or nil.
func (t *tracker) get(name string) *corev1.Pod {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pods[name]
}

func isRunning(p *corev1.Pod) bool { return p != nil && p.Status.Phase == corev1.PodRunning }

func isGone(p *corev1.Pod) bool { return p == nil }

// containerRunning says whether the pod's first container runs and has
// restarted exactly n times.
func containerRunning(n int32) func(*corev1.Pod) bool {
	return func(p *corev1.Pod) bool {
		if p == nil || len(p.Status.ContainerStatuses) == 0 {
			return false
		}
		cs := p.Status.ContainerStatuses[0]
		return cs.State.Running != nil && cs.RestartCount == n
	}
}

// exitSeen says whether the status shows that the first container, which
// ran with n restarts, exited: it is no longer running, or it restarted.
func exitSeen(n int32) func(*corev1.Pod) bool {
	return func(p *corev1.Pod) bool {
		if p == nil || len(p.Status.ContainerStatuses) == 0 {
			return false
		}
		cs := p.Status.ContainerStatuses[0]
		return cs.State.Running == nil || cs.RestartCount > n
	}
}
