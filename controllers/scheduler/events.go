package scheduler

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"
)

// Event reasons, as kube-scheduler gives them.
const (
	ReasonScheduled        = "Scheduled"
	ReasonFailedScheduling = "FailedScheduling"
)

// recorder writes classic core/v1 Events about pods on behalf of one
// component. It is synchronous and keeps no cache: the controller decides
// when an event is worth writing.
type recorder struct {
	client    kubernetes.Interface
	clock     clock.PassiveClock
	component string
	seq       atomic.Int64
}

// record writes one event; its failure is only worth a log line.
func (r *recorder) record(ctx context.Context, pod *corev1.Pod, eventType, reason, msg string) error {
	now := r.clock.Now()
	// kube names events <object>.<unix nanos in hex>; the counter keeps the
	// names apart when the clock has not moved (a fake clock in tests).
	name := fmt.Sprintf("%s.%x", pod.Name, now.UnixNano()+r.seq.Add(1))
	ev := newEvent(pod, name, r.component, eventType, reason, msg, now)
	if _, err := r.client.CoreV1().Events(pod.Namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("event %s for pod %s/%s: %w", reason, pod.Namespace, pod.Name, err)
	}
	return nil
}

func newEvent(pod *corev1.Pod, name, component, eventType, reason, msg string, now time.Time) *corev1.Event {
	t := metav1.NewTime(now)
	return &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: pod.Namespace},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace,
			Name: pod.Name, UID: pod.UID, ResourceVersion: pod.ResourceVersion},
		Reason: reason, Message: msg, Type: eventType,
		Source:         corev1.EventSource{Component: component},
		FirstTimestamp: t, LastTimestamp: t, Count: 1,
		ReportingController: component,
	}
}

// withUnschedulable returns a copy of pod whose PodScheduled condition is
// False/Unschedulable with msg, and false when the pod already says exactly
// that (nothing to write, no new event).
func withUnschedulable(pod *corev1.Pod, msg string, now time.Time) (*corev1.Pod, bool) {
	cond := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
		Reason: corev1.PodReasonUnschedulable, Message: msg, LastTransitionTime: metav1.NewTime(now)}
	out := pod.DeepCopy()
	for i, c := range out.Status.Conditions {
		if c.Type != corev1.PodScheduled {
			continue
		}
		if c.Status == cond.Status && c.Reason == cond.Reason && c.Message == cond.Message {
			return pod, false
		}
		if c.Status == cond.Status {
			cond.LastTransitionTime = c.LastTransitionTime
		}
		out.Status.Conditions[i] = cond
		return out, true
	}
	out.Status.Conditions = append(out.Status.Conditions, cond)
	return out, true
}
