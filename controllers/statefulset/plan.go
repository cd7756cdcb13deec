package statefulset

import (
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// Actions are what one sync does to a set's pods: create each of Create
// (after its claims), delete each of Delete, and write each of Relabel
// (a copy with its identity labels restored).
type Actions struct {
	Create, Delete, Relabel []*corev1.Pod
}

// changes reports whether pods are created or deleted.
func (a Actions) changes() bool { return len(a.Create)+len(a.Delete) > 0 }

// state is what a plan is computed from: the set, its revisions, its
// pods (controlled by it, named "<set>-<ordinal>") and the time.
type state struct {
	set  *appsv1.StatefulSet
	rev  *revisions
	pods []*corev1.Pod
	now  time.Time
}

// Plan is kube's updateStatefulSet. Pods of the ordinal range are made
// in order, each Running and available before the next is made
// (OrderedReady), or all at once (Parallel); failed or succeeded pods
// are deleted to be made again; pods beyond the range are deleted from
// the highest ordinal down, each once its predecessors are available;
// then, for RollingUpdate, the highest pod at or above the partition not
// at the update revision is deleted (and remade at it on a later sync),
// one at a time, waiting for each to be available.
func Plan(s state) Actions {
	monotonic := s.set.Spec.PodManagementPolicy != appsv1.ParallelPodManagement
	reps, condemned := s.split()
	a, blocked := s.planReplicas(reps, monotonic)
	if blocked {
		return a
	}
	if s.planCondemned(&a, reps, condemned, monotonic) || a.changes() ||
		s.set.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
		return a
	}
	s.planUpdate(&a, reps)
	return a
}

// split places the pods of the ordinal range by index (nil where none is)
// and returns the others, highest ordinal first.
func (s state) split() (reps, condemned []*corev1.Pod) {
	start, n := startOrdinal(s.set), replicas(s.set)
	reps = make([]*corev1.Pod, n)
	for _, pod := range s.pods {
		_, ord, _ := parseName(pod.Name)
		if ord >= start && ord < start+n {
			reps[ord-start] = pod
		} else {
			condemned = append(condemned, pod)
		}
	}
	sort.Slice(condemned, func(i, j int) bool { return ordinal(condemned[i]) > ordinal(condemned[j]) })
	return reps, condemned
}

func ordinal(pod *corev1.Pod) int {
	_, ord, _ := parseName(pod.Name)
	return ord
}

// planReplicas is kube's processReplica over the range; blocked means
// an ordered set must wait.
func (s state) planReplicas(reps []*corev1.Pod, monotonic bool) (a Actions, blocked bool) {
	start := startOrdinal(s.set)
	for i, pod := range reps {
		ord := start + i
		switch {
		case pod == nil:
			a.Create = append(a.Create, s.newVersionedPod(ord))
		case terminal(pod):
			if pod.DeletionTimestamp == nil {
				a.Delete = append(a.Delete, pod)
			}
		case pod.DeletionTimestamp != nil || !s.available(pod):
			if monotonic {
				return a, true
			}
			fallthrough
		default:
			if !identityMatches(pod, ord) {
				a.Relabel = append(a.Relabel, relabeled(pod, ord))
			}
			continue
		}
		if monotonic {
			return a, true
		}
	}
	return a, false
}

// planCondemned deletes pods beyond the range, highest first; an ordered
// set deletes one at a time, and only a healthy one or the first
// unhealthy one. It reports whether the set must wait.
func (s state) planCondemned(a *Actions, reps, condemned []*corev1.Pod, monotonic bool) bool {
	first := s.firstUnavailable(reps, condemned)
	for _, pod := range condemned {
		switch {
		case pod.DeletionTimestamp != nil:
			if monotonic {
				return true
			}
		case monotonic && !s.available(pod) && pod != first:
			return true
		default:
			a.Delete = append(a.Delete, pod)
			if monotonic {
				return true
			}
		}
	}
	return false
}

func (s state) firstUnavailable(reps, condemned []*corev1.Pod) *corev1.Pod {
	for _, pod := range reps {
		if pod == nil || !s.available(pod) {
			return pod
		}
	}
	for i := len(condemned) - 1; i >= 0; i-- {
		if !s.available(condemned[i]) {
			return condemned[i]
		}
	}
	return nil
}

// planUpdate deletes the highest pod from the partition up that is not
// at the update revision, unless a higher one is not yet available.
func (s state) planUpdate(a *Actions, reps []*corev1.Pod) {
	for i := len(reps) - 1; i >= s.partition(); i-- {
		pod := reps[i]
		if pod.Labels[appsv1.ControllerRevisionHashLabelKey] != s.rev.update.Name && pod.DeletionTimestamp == nil {
			a.Delete = append(a.Delete, pod)
			return
		}
		if !s.available(pod) {
			return
		}
	}
}

// rolling: the strategy is RollingUpdate, the default when none is set.
func rolling(set *appsv1.StatefulSet) bool {
	t := set.Spec.UpdateStrategy.Type
	return t == appsv1.RollingUpdateStatefulSetStrategyType || t == ""
}

func (s state) partition() int {
	ru := s.set.Spec.UpdateStrategy.RollingUpdate
	if ru == nil || ru.Partition == nil {
		return 0
	}
	return int(*ru.Partition)
}

// newVersionedPod is the pod for ordinal ord: at the current revision
// below the partition (or, without one, among the current replicas), at
// the update revision otherwise.
func (s state) newVersionedPod(ord int) *corev1.Pod {
	set := s.set
	start := startOrdinal(set)
	old := rolling(set) &&
		((set.Spec.UpdateStrategy.RollingUpdate == nil && ord < start+int(set.Status.CurrentReplicas)) ||
			(set.Spec.UpdateStrategy.RollingUpdate != nil && ord < start+s.partition()))
	if old {
		return newPod(set, s.rev.currentT, ord, s.rev.current.Name)
	}
	return newPod(set, s.rev.updateT, ord, s.rev.update.Name)
}

func relabeled(pod *corev1.Pod, ord int) *corev1.Pod {
	p := pod.DeepCopy()
	p.Labels = identityLabels(p.Labels, p.Name, ord)
	return p
}

func terminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded
}

// available: Running, Ready, for minReadySeconds, and not terminating.
func (s state) available(pod *corev1.Pod) bool {
	return pod.DeletionTimestamp == nil && pod.Status.Phase == corev1.PodRunning &&
		availableIn(pod, s.set.Spec.MinReadySeconds, s.now) == 0 && readySince(pod) != nil
}

// readySince is when the pod's Ready condition last became True, or nil.
func readySince(pod *corev1.Pod) *time.Time {
	for i := range pod.Status.Conditions {
		c := &pod.Status.Conditions[i]
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return &c.LastTransitionTime.Time
		}
	}
	return nil
}

// availableIn is how long until a ready pod becomes available (0 when it
// is, or is not ready).
func availableIn(pod *corev1.Pod, minReady int32, now time.Time) time.Duration {
	since := readySince(pod)
	if since == nil || minReady == 0 {
		return 0
	}
	return max(0, since.Add(time.Duration(minReady)*time.Second).Sub(now))
}
