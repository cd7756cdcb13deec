package volumemanager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/volumes"
)

// Source is what the manager reads from the API, through the agent.
type Source interface {
	// Claim returns the PersistentVolume bound to the pod's claim, checked
	// as kubelet checks it (the claim bound, not being deleted, the
	// volume's claimRef naming it; an ephemeral volume's claim owned by
	// the pod).
	Claim(ctx context.Context, pod *corev1.Pod, v corev1.Volume, claim string) (*corev1.PersistentVolume, error)
	// Files returns the files of a configMap, secret, downwardAPI or
	// projected volume.
	Files(ctx context.Context, pod *corev1.Pod, v corev1.Volume) (map[string]volumes.File, error)
}

// Recorder records events on pods (record.EventRecorder's Eventf).
type Recorder interface {
	Eventf(obj runtime.Object, typ, reason, format string, args ...any)
}

// Config is what the manager works with.
type Config struct {
	// RootDir is the agent's root: pods/ and plugins/ are beneath it.
	RootDir string
	// Pods lays out the volumes that live in the pod's directory.
	Pods    *volumes.Manager
	Mounter volumes.Mounter
	// Plugins are the CSI node plugins by driver name.
	Plugins  map[string]volumes.NodePlugin
	Source   Source
	Recorder Recorder
	Clock    clock.WithTicker
	Log      *slog.Logger
	// RefreshPeriod is how often configMap, secret, projected and
	// downwardAPI volumes are written again from the API (kubelet: at
	// each pod sync, a minute apart).
	RefreshPeriod time.Duration
	// RetryPeriod is how often the loop runs when nothing wakes it.
	RetryPeriod time.Duration
	// OnReady is called with a pod whose volumes have all become ready
	// in a pass of the loop: the agent wakes its worker.
	OnReady func(types.UID)
	// NodeName is this node's: its VolumeAttachments are waited for, and
	// the local volumes that live on it are guarded and reclaimed.
	NodeName string
	// Control reads and writes the storage control plane (attachments,
	// the backing-file finalizer); nil only for `agent --cleanup`, which
	// stages nothing and reclaims nothing.
	Control ControlPlane
	// ReclaimPeriod is how often, at most, the volume of each backing
	// file held is looked at (reclaim.go; default 30 s).
	ReclaimPeriod time.Duration
	// WaitPeriod is how soon a pass comes again while a volume waits for
	// its attachment (default 250 ms).
	WaitPeriod time.Duration
}

// Manager is the agent's volume manager, shaped as kubelet's: the desired
// state (the pods bound here and their volumes, resolved to the
// PersistentVolumes of their claims), the actual state (records and the
// mount table, actual.go), and one reconciler that stages, publishes,
// sets up and tears down until they agree (compute.go, apply.go).
type Manager struct {
	cfg Config

	mu           sync.Mutex
	pods         map[types.UID]*podEntry
	gone         map[types.UID]bool // removed, to be unpublished
	setUp        map[podVolume]setUpInfo
	sourcesReady bool
	backoff      map[opKey]backoffEntry
	// unpublishErrs are the last unpublish failures, by published volume.
	unpublishErrs map[publishKey]error
	// reclaims: when each held backing file's volume is looked at next.
	reclaims map[stagingKey]reclaimEntry
	// waitingAttach: a volume to stage waits for its attachment.
	waitingAttach bool

	passMu  sync.Mutex // one pass at a time
	trigger chan struct{}
}

// podEntry is one pod of the desired state and what the last pass made
// of it.
type podEntry struct {
	pod     *corev1.Pod
	volumes map[string]*desiredVolume // resolved
	errs    map[string]error          // by volume: why it is not ready
	ready   bool
	events  map[string]string // the last FailedMount message per volume
}

// Mounted is a ready volume as containers get it.
type Mounted struct {
	Path     string // the directory (or, for a block volume, the device node) to give the runtime
	ReadOnly bool
	Block    bool
}

// ErrNotReady says that a pod's volumes are not all set up yet.
var ErrNotReady = errors.New("volumes are not ready")

// New returns a manager; Run runs its loop.
func New(cfg Config) (*Manager, error) {
	if cfg.RefreshPeriod <= 0 {
		cfg.RefreshPeriod = 30 * time.Second
	}
	if cfg.RetryPeriod <= 0 {
		cfg.RetryPeriod = time.Second
	}
	if cfg.ReclaimPeriod <= 0 {
		cfg.ReclaimPeriod = 30 * time.Second
	}
	if cfg.WaitPeriod <= 0 {
		cfg.WaitPeriod = 250 * time.Millisecond
	}
	// As the mount table names paths; a root that does not exist yet (an
	// agent's first start, `agent --cleanup` on a clean machine) is made
	// by the first pod, not here.
	root, err := filepath.EvalSymlinks(cfg.RootDir)
	if errors.Is(err, os.ErrNotExist) {
		root, err = filepath.Abs(cfg.RootDir)
	}
	if err != nil {
		return nil, err
	}
	cfg.RootDir = root
	return &Manager{cfg: cfg, pods: map[types.UID]*podEntry{}, gone: map[types.UID]bool{}, setUp: map[podVolume]setUpInfo{},
		backoff: map[opKey]backoffEntry{}, unpublishErrs: map[publishKey]error{}, reclaims: map[stagingKey]reclaimEntry{},
		trigger: make(chan struct{}, 1)}, nil
}

func (m *Manager) podsDir() string { return filepath.Join(m.cfg.RootDir, "pods") }

func (m *Manager) podDir(uid types.UID) string { return filepath.Join(m.podsDir(), string(uid)) }

// Run reconciles when woken (a pod added or removed), every RetryPeriod
// (retries, refreshes), and every WaitPeriod while a volume waits for
// its attachment, until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	t := m.cfg.Clock.NewTicker(m.cfg.RetryPeriod)
	defer t.Stop()
	for {
		m.pass(ctx)
		if !m.sleep(ctx, t) {
			return
		}
	}
}

// sleep waits for the next pass; false when ctx ended.
func (m *Manager) sleep(ctx context.Context, t clock.Ticker) bool {
	var soon <-chan time.Time
	if m.waiting() {
		w := m.cfg.Clock.NewTimer(m.cfg.WaitPeriod)
		defer w.Stop()
		soon = w.C()
	}
	select {
	case <-ctx.Done():
		return false
	case <-m.trigger:
	case <-t.C():
	case <-soon:
	}
	return true
}

func (m *Manager) wake() {
	select {
	case m.trigger <- struct{}{}:
	default:
	}
}

// SetSourcesReady says that every pod that runs here has been added: the
// manager may now unstage volumes no pod wants (after a restart, a pod
// not yet added may still want one).
func (m *Manager) SetSourcesReady() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sourcesReady = true
}

// AddPod adds the pod to the desired state, or updates it (its labels
// and annotations feed downwardAPI volumes).
func (m *Manager) AddPod(pod *corev1.Pod) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.gone, pod.UID)
	if e, ok := m.pods[pod.UID]; ok {
		e.pod = pod
		return
	}
	e := &podEntry{pod: pod, volumes: map[string]*desiredVolume{}, errs: map[string]error{}, events: map[string]string{}}
	for _, v := range pod.Spec.Volumes {
		d, err := plainVolume(v)
		switch {
		case err != nil:
			e.errs[v.Name] = err
		case d != nil:
			e.volumes[v.Name] = d
		}
	}
	m.pods[pod.UID] = e
	m.wake()
}

// RemovePod takes the pod out of the desired state: its volumes are
// unpublished (its containers have stopped), and unstaged once no other
// pod uses them.
func (m *Manager) RemovePod(uid types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removeLocked(uid)
	m.wake()
}

func (m *Manager) removeLocked(uid types.UID) {
	delete(m.pods, uid)
	m.gone[uid] = true
	for pv := range m.setUp {
		if pv.uid == uid {
			delete(m.setUp, pv)
		}
	}
	for k := range m.backoff {
		if k.uid == uid && k.op != "unpublish" {
			delete(m.backoff, k)
		}
	}
}

// TearDownPod removes the pod and unpublishes its volumes now (unstaging
// those no pod uses any more); it fails while any of its volumes is
// still published. The agent removes the pod's directory only after it.
func (m *Manager) TearDownPod(ctx context.Context, uid types.UID) error {
	m.RemovePod(uid)
	m.pass(ctx)
	a, err := m.readActual()
	if err != nil {
		return err
	}
	var left []string
	for k := range a.published {
		if k.uid == uid {
			left = append(left, k.pvName)
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("volumes %v of pod %s are still published: %w", left, uid, m.lastErrs(uid))
	}
	return nil
}

// WaitForMount adds the pod and, unless its volumes are all ready, runs a
// pass for it; it returns the pod's volumes as containers get them, or
// why they are not ready (ErrNotReady, with kubelet's reasons).
func (m *Manager) WaitForMount(ctx context.Context, pod *corev1.Pod) (map[string]Mounted, error) {
	m.AddPod(pod)
	if mounts, err := m.Mounts(pod.UID); err == nil {
		return mounts, nil
	}
	m.pass(ctx)
	return m.Mounts(pod.UID)
}

// Usage is the disk usage, in bytes, of the pod's emptyDir volumes that
// have a sizeLimit, at their last check (every RefreshPeriod).
func (m *Manager) Usage(uid types.UID) map[string]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int64{}
	e, ok := m.pods[uid]
	if !ok {
		return out
	}
	for name, v := range e.volumes {
		if v.watchesUsage() {
			out[name] = m.setUp[podVolume{uid: uid, name: name}].usage
		}
	}
	return out
}

// Reconcile runs one pass now.
func (m *Manager) Reconcile(ctx context.Context) { m.pass(ctx) }

// Mounts returns the pod's ready volumes, or ErrNotReady with why.
func (m *Manager) Mounts(uid types.UID) (map[string]Mounted, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.pods[uid]
	if !ok {
		return nil, fmt.Errorf("%w: pod %s is not in the desired state", ErrNotReady, uid)
	}
	if !e.ready && len(e.pod.Spec.Volumes) > 0 {
		return nil, e.notReady()
	}
	out := map[string]Mounted{}
	for name, v := range e.volumes {
		out[name] = m.mounted(uid, v)
	}
	return out, nil
}

// mounted is where a ready volume is.
func (m *Manager) mounted(uid types.UID, v *desiredVolume) Mounted {
	if v.kind == kindCSI {
		k := publishKey{uid: uid, pvName: v.csi.pvName}
		return Mounted{Path: k.target(m.podsDir(), v.csi.capability.Block), ReadOnly: v.csi.readOnly, Block: v.csi.capability.Block}
	}
	s := m.setUp[podVolume{uid: uid, name: v.name}]
	return Mounted{Path: s.path, ReadOnly: s.readOnly}
}

// notReady is kubelet's message for a pod whose volumes wait.
func (e *podEntry) notReady() error {
	var names []string
	var errs []error
	for _, v := range e.pod.Spec.Volumes {
		if err := e.errs[v.Name]; err != nil {
			names = append(names, v.Name)
			errs = append(errs, err)
		} else if _, ok := e.volumes[v.Name]; !ok {
			names = append(names, v.Name)
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("%w: not mounted yet", ErrNotReady)
	}
	return fmt.Errorf("%w: unmounted volumes=%s: %w", ErrNotReady, bracketed(names), errors.Join(errs...))
}

func (m *Manager) lastErrs(uid types.UID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for k, err := range m.unpublishErrs {
		if k.uid == uid {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (m *Manager) setUpCopy() map[podVolume]setUpInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[podVolume]setUpInfo, len(m.setUp))
	for k, v := range m.setUp {
		out[k] = v
	}
	return out
}

// Cleaner is a plugin that can remove what it made beyond its records
// (the local driver: loop devices of its backing files).
type Cleaner interface {
	Cleanup(ctx context.Context) error
}

// CleanupAll unpublishes every published volume and unstages every staged
// one, whatever pod they belong to, then lets each plugin clean up: `agent
// --cleanup`, when no pod runs. It fails if anything is left.
func (m *Manager) CleanupAll(ctx context.Context) error {
	a, err := m.readActual()
	if err != nil {
		return err
	}
	m.mu.Lock()
	for k := range a.published {
		m.removeLocked(k.uid)
	}
	for uid := range m.pods {
		m.removeLocked(uid)
	}
	m.sourcesReady = true
	m.mu.Unlock()
	m.pass(ctx)
	var errs []error
	for _, p := range m.cfg.Plugins {
		if c, ok := p.(Cleaner); ok {
			errs = append(errs, c.Cleanup(ctx))
		}
	}
	if a, err = m.readActual(); err != nil {
		return errors.Join(append(errs, err)...)
	}
	if len(a.published)+len(a.staged) > 0 {
		errs = append(errs, fmt.Errorf("%d published and %d staged volumes are left: %w", len(a.published), len(a.staged), m.allUnpublishErrs()))
	}
	return errors.Join(errs...)
}

func (m *Manager) allUnpublishErrs() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for _, err := range m.unpublishErrs {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
