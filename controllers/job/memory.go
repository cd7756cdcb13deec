package job

import (
	"strconv"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// expectationsTimeout is how long the controller waits for its own writes
// to show in the cache before it acts without them (kube's 5 minutes).
const expectationsTimeout = 5 * time.Minute

// jobMemory is what the controller remembers of a job between syncs, as
// kube's job controller does in memory: the pods it created and deleted and
// whose finalizer it removed until the cache shows that, its backoff record
// (failures since the last success, the last failure's time), and the
// status it last wrote, so a sync on a stale cached job waits for the newer
// one instead of counting twice.
type jobMemory struct {
	creates  map[string]struct{}
	deletes  map[types.UID]struct{}
	removed  map[types.UID]struct{}
	since    time.Time
	failures int
	lastFail time.Time
	written  string
	wroteAt  time.Time
}

type memories struct {
	mu   sync.Mutex
	jobs map[types.UID]*jobMemory
}

func (m *memories) get(uid types.UID) *jobMemory {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.jobs == nil {
		m.jobs = map[types.UID]*jobMemory{}
	}
	mem, ok := m.jobs[uid]
	if !ok {
		mem = &jobMemory{creates: map[string]struct{}{}, deletes: map[types.UID]struct{}{}, removed: map[types.UID]struct{}{}}
		m.jobs[uid] = mem
	}
	return mem
}

func (m *memories) forget(uid types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.jobs, uid)
}

// observe drops the expectations the cached pods meet, and reports whether
// all are met (or have waited past the timeout).
func (mem *jobMemory) observe(pods []*corev1.Pod, now time.Time) bool {
	byName := map[string]*corev1.Pod{}
	byUID := map[types.UID]*corev1.Pod{}
	for _, p := range pods {
		byName[p.Name], byUID[p.UID] = p, p
	}
	for name := range mem.creates {
		if _, ok := byName[name]; ok {
			delete(mem.creates, name)
		}
	}
	for uid := range mem.deletes {
		if p, ok := byUID[uid]; !ok || p.DeletionTimestamp != nil {
			delete(mem.deletes, uid)
		}
	}
	for uid := range mem.removed {
		if p, ok := byUID[uid]; !ok || !hasFinalizer(p) {
			delete(mem.removed, uid)
		}
	}
	if len(mem.creates)+len(mem.deletes) == 0 || now.Sub(mem.since) > expectationsTimeout {
		clear(mem.creates)
		clear(mem.deletes)
		return true
	}
	return false
}

// backoff is how long to wait before creating pods again: 10s doubling per
// failure since the last success, at most 6 minutes, from the last failure.
func (mem *jobMemory) backoff(now time.Time) time.Duration {
	if mem.failures == 0 {
		return 0
	}
	d := 6 * time.Minute
	if mem.failures <= 6 {
		d = min(d, 10*time.Second<<(mem.failures-1))
	}
	return max(mem.lastFail.Add(d).Sub(now), 0)
}

// stale reports whether the cached job's status is older than the one the
// controller last wrote (for at most the expectations timeout).
func (mem *jobMemory) stale(st *batchv1.JobStatus, now time.Time) bool {
	return mem.written != "" && mem.written != fingerprint(st) && now.Sub(mem.wroteAt) <= expectationsTimeout
}

func (mem *jobMemory) wrote(st *batchv1.JobStatus, now time.Time) {
	mem.written, mem.wroteAt = fingerprint(st), now
}

// fingerprint is the part of a job's status only this controller writes
// and that the server keeps as written: the counts, the condition types
// and statuses, the start and completion times (in seconds, as stored).
func fingerprint(st *batchv1.JobStatus) string {
	s := st.CompletedIndexes
	for _, c := range st.Conditions {
		s += "|" + string(c.Type) + "=" + string(c.Status)
	}
	return s + "|" + itoa(st.Succeeded) + "|" + itoa(st.Failed) + "|" + seconds(st.StartTime) + "|" + seconds(st.CompletionTime)
}

func seconds(t *metav1.Time) string {
	if t == nil {
		return "-"
	}
	return strconv.FormatInt(t.Unix(), 10)
}
