package volumemanager

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// pass is one reconcile: resolve the claims not resolved yet, read the
// actual state, compute the plan, apply it, look at the backing files
// due for reclaim, then tell which pods have all their volumes now.
func (m *Manager) pass(ctx context.Context) {
	m.passMu.Lock()
	defer m.passMu.Unlock()
	m.resolveClaims(ctx)
	actual, err := m.readActual()
	if err != nil {
		m.cfg.Log.Warn("reading the volumes' actual state", "err", err)
		return
	}
	in := m.planInput(actual)
	m.apply(ctx, computePlan(in), actual, in)
	if actual, err = m.readActual(); err != nil {
		m.cfg.Log.Warn("reading the volumes' actual state", "err", err)
		return
	}
	m.reclaim(ctx, actual)
	for _, uid := range m.updateReadiness(actual) {
		if m.cfg.OnReady != nil {
			m.cfg.OnReady(uid)
		}
	}
}

// planInput snapshots the desired state.
func (m *Manager) planInput(actual actualState) planInput {
	m.mu.Lock()
	defer m.mu.Unlock()
	in := planInput{gone: map[types.UID]bool{}, actual: actual, now: m.cfg.Clock.Now(), refresh: m.cfg.RefreshPeriod,
		sourcesReady: m.sourcesReady}
	for uid := range m.gone {
		in.gone[uid] = true
	}
	for uid, e := range m.pods {
		vols := make(map[string]*desiredVolume, len(e.volumes))
		for n, v := range e.volumes {
			vols[n] = v
		}
		in.desired = append(in.desired, desiredPod{uid: uid, pod: e.pod, version: e.pod.ResourceVersion, volumes: vols})
	}
	return in
}

// resolveClaims resolves each pod's claims not resolved yet to their
// PersistentVolumes (a claim that is not bound yet is tried again, with
// back-off).
func (m *Manager) resolveClaims(ctx context.Context) {
	type todo struct {
		pod *corev1.Pod
		v   corev1.Volume
	}
	var work []todo
	m.mu.Lock()
	for _, e := range m.pods {
		for _, v := range e.pod.Spec.Volumes {
			if _, ok := claimName(e.pod, v); ok && e.volumes[v.Name] == nil {
				work = append(work, todo{e.pod, v})
			}
		}
	}
	m.mu.Unlock()
	for _, w := range work {
		key := opKey{op: "claim", uid: w.pod.UID, name: w.v.Name}
		var d *desiredVolume
		ran, err := m.try(key, func() error {
			var err error
			d, err = m.resolveClaim(ctx, w.pod, w.v)
			return err
		})
		if ran {
			m.setVolume(w.pod.UID, w.v.Name, d, err)
		}
	}
}

func (m *Manager) resolveClaim(ctx context.Context, pod *corev1.Pod, v corev1.Volume) (*desiredVolume, error) {
	claim, _ := claimName(pod, v)
	pv, err := m.cfg.Source.Claim(ctx, pod, v, claim)
	if err != nil {
		return nil, err
	}
	readOnly := v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ReadOnly
	return claimVolume(v, pv, readOnly, fsGroup(pod))
}

// setVolume stores a resolved volume, or why it is not.
func (m *Manager) setVolume(uid types.UID, name string, d *desiredVolume, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.pods[uid]
	switch {
	case !ok:
	case err != nil:
		e.errs[name] = err
	case d != nil:
		e.volumes[name] = d
		delete(e.errs, name)
	}
}

// setErr records (or, nil, clears) why a pod's volume is not ready.
func (m *Manager) setErr(uid types.UID, name string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.pods[uid]; ok {
		if err == nil {
			delete(e.errs, name)
		} else {
			e.errs[name] = err
		}
	}
}

// updateReadiness marks each pod ready whose volumes are all resolved and
// in the actual state, reports FailedMount events for those that fail,
// and returns the pods that became ready.
func (m *Manager) updateReadiness(a actualState) []types.UID {
	m.mu.Lock()
	defer m.mu.Unlock()
	var became []types.UID
	for uid, e := range m.pods {
		// A volume set up once stays ready when a later refresh fails (the
		// failure is an event): containers may start on its last content.
		ready := len(e.volumes) == len(e.pod.Spec.Volumes)
		for _, v := range e.volumes {
			ready = ready && m.inActual(a, uid, v)
		}
		if ready && !e.ready {
			became = append(became, uid)
		}
		e.ready = ready
		m.reportFailures(e)
	}
	for uid := range m.gone {
		if !hasPublished(a, uid) {
			delete(m.gone, uid)
		}
	}
	return became
}

func (m *Manager) inActual(a actualState, uid types.UID, v *desiredVolume) bool {
	if v.kind == kindCSI {
		k := publishKey{uid: uid, pvName: v.csi.pvName}
		_, ok := a.published[k]
		return ok && a.mounted[k]
	}
	_, ok := m.setUp[podVolume{uid: uid, name: v.name}]
	return ok
}

func hasPublished(a actualState, uid types.UID) bool {
	for k := range a.published {
		if k.uid == uid {
			return true
		}
	}
	return false
}

// reportFailures records a FailedMount event for each volume whose
// failure changed since the last one (a wait for the volume's attachment
// is no failure: the attach/detach controller reports it).
func (m *Manager) reportFailures(e *podEntry) {
	for name, err := range e.errs {
		msg := err.Error()
		if e.events[name] == msg || m.cfg.Recorder == nil || isWaiting(err) {
			continue
		}
		e.events[name] = msg
		m.cfg.Recorder.Eventf(e.pod, corev1.EventTypeWarning, "FailedMount", "MountVolume.SetUp failed for volume %q : %s", name, msg)
	}
	for name := range e.events {
		if e.errs[name] == nil {
			delete(e.events, name)
		}
	}
}

// fsGroup is the pod's fsGroup, nil for none.
func fsGroup(pod *corev1.Pod) *int64 {
	if sc := pod.Spec.SecurityContext; sc != nil {
		return sc.FSGroup
	}
	return nil
}

// opKey names an operation for its back-off: a pod's volume, or (no
// uid) a staged volume.
type opKey struct {
	op   string
	uid  types.UID
	name string
}

// backoffEntry is an operation's back-off after a failure, or while it
// waits for another component (waiting: a waitingError).
type backoffEntry struct {
	next    time.Time
	delay   time.Duration
	waiting bool
}

const (
	initialBackoff = 500 * time.Millisecond
	maxBackoff     = 30 * time.Second
	// maxWaitBackoff bounds the back-off of a wait: the attachment is
	// looked at again within 2 s of the last look.
	maxWaitBackoff = 2 * time.Second
)

// try runs op unless it is backing off from a failure (ran false: the
// caller keeps what it knew); a failure doubles the back-off (a wait
// doubles from WaitPeriod up to maxWaitBackoff), a success ends it.
func (m *Manager) try(key opKey, op func() error) (ran bool, err error) {
	now := m.cfg.Clock.Now()
	m.mu.Lock()
	b, ok := m.backoff[key]
	m.mu.Unlock()
	if ok && now.Before(b.next) {
		return false, nil
	}
	err = op()
	m.mu.Lock()
	defer m.mu.Unlock()
	if err == nil {
		delete(m.backoff, key)
		return true, nil
	}
	if b.waiting = isWaiting(err); b.waiting {
		b.delay = min(max(2*b.delay, m.cfg.WaitPeriod), maxWaitBackoff)
	} else {
		b.delay = min(max(2*b.delay, initialBackoff), maxBackoff)
	}
	b.next = now.Add(b.delay)
	m.backoff[key] = b
	return true, err
}
