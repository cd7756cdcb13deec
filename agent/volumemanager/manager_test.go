package volumemanager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/nodeagent/nodeagent/api/localvolume"
	"github.com/nodeagent/nodeagent/volumes"
	"github.com/nodeagent/nodeagent/volumes/localdriver"
)

// node is the kernel of a test (fake mounts, loop devices, filesystems)
// and its agent root; managers made on it are "restarts" of the agent.
type node struct {
	t      *testing.T
	root   string
	mount  *volumes.Fake
	loop   *volumes.FakeLoop
	format *volumes.FakeFormatter
	src    *fakeSource
	clock  *testingclock.FakeClock
	events *record.FakeRecorder
	hold   func(context.Context, string, localdriver.Step)
	ready  chan types.UID
	api    *fake.Clientset // the storage control plane: volumes, attachments
}

func newNode(t *testing.T) *node {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	loop := volumes.NewFakeLoop()
	n := &node{t: t, root: root, mount: volumes.NewFake(), loop: loop, format: volumes.NewFakeFormatter(loop),
		src:   &fakeSource{pvs: map[string]*corev1.PersistentVolume{}, files: map[string]string{}},
		clock: testingclock.NewFakeClock(time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)), events: record.NewFakeRecorder(100),
		ready: make(chan types.UID, 100), api: fake.NewClientset()}
	return n
}

func (n *node) manager() *Manager {
	n.t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	driver := localdriver.New(localdriver.Config{BackingDir: filepath.Join(n.root, "volumes-backing"), Loop: n.loop,
		Formatter: n.format, Mounter: n.mount, Log: log, Hold: n.hold})
	m, err := New(Config{RootDir: n.root, Pods: volumes.NewManager(n.mount, nil, log), Mounter: n.mount,
		Plugins: map[string]volumes.NodePlugin{localdriver.Name: driver}, Source: n.src, Recorder: n.events, Clock: n.clock,
		Log: log, RefreshPeriod: time.Minute, OnReady: func(uid types.UID) { n.ready <- uid },
		NodeName: testNode, Control: NewControlPlane(n.api)})
	if err != nil {
		n.t.Fatal(err)
	}
	return m
}

// fakeSource serves claims bound to PVs and files from maps.
type fakeSource struct {
	mu     sync.Mutex
	pvs    map[string]*corev1.PersistentVolume // by claim name
	files  map[string]string                   // volume name -> content of its file "key"
	claims int
}

func (s *fakeSource) Claim(_ context.Context, pod *corev1.Pod, _ corev1.Volume, claim string) (*corev1.PersistentVolume, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.claims++
	pv, ok := s.pvs[claim]
	if !ok {
		return nil, fmt.Errorf("PVC %s/%s is not bound", pod.Namespace, claim)
	}
	return pv, nil
}

func (s *fakeSource) Files(_ context.Context, pod *corev1.Pod, v corev1.Volume) (map[string]volumes.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v.DownwardAPI != nil {
		return map[string]volumes.File{"labels": {Data: []byte(pod.Labels["app"]), Mode: 0o644}}, nil
	}
	return map[string]volumes.File{"key": {Data: []byte(s.files[v.Name]), Mode: 0o644}}, nil
}

func (s *fakeSource) bind(claim string, pv *corev1.PersistentVolume) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pvs[claim] = pv
}

// filePV is a file-backed PV of local.nodeagent.io on the test's node.
func filePV(name string, block bool) *corev1.PersistentVolume {
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PersistentVolumeSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, MountOptions: []string{"noatime"},
		NodeAffinity:                  localvolume.NodeAffinity(testNode),
		PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
		PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: localdriver.Name,
			VolumeHandle: name, FSType: "ext4", VolumeAttributes: map[string]string{"backing": "file", "size": "1048576"}}}}}
	if block {
		mode := corev1.PersistentVolumeBlock
		pv.Spec.VolumeMode = &mode
	}
	return pv
}

func claimPod(uid, claim string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p-" + uid, Namespace: "ns", UID: types.UID(uid), ResourceVersion: "1",
		Labels: map[string]string{"app": "one"}},
		Spec: corev1.PodSpec{Volumes: []corev1.Volume{
			{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}},
			{Name: "cm", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}},
			{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			{Name: "info", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{}}},
		}}}
}

// stagingMounts and publishMounts count the fake's filesystem mounts at
// staging paths and its binds in pod directories.
func (n *node) counts() (staged, published int) {
	for p, m := range n.mount.Mounts() {
		switch {
		case strings.HasSuffix(p, "/globalmount") && m.Type == "ext4":
			staged++
		case strings.Contains(p, "/volumes/kubernetes.io~csi/") && m.Type == "bind":
			published++
		}
	}
	return staged, published
}

// assertNothingLeft: no staging directory, loop device or CSI mount (the
// pod directories' own mounts go with RemovePodDir).
func (n *node) assertNothingLeft() {
	n.t.Helper()
	if s, p := n.counts(); s+p != 0 {
		n.t.Fatalf("mounts left: %v", n.mount.Mounts())
	}
	if l, _ := n.loop.List(); len(l) != 0 {
		n.t.Fatalf("loop devices left: %v", l)
	}
	left, _ := filepath.Glob(filepath.Join(n.root, volumes.CSIPluginDir, "*", "*"))
	if len(left) != 0 {
		n.t.Fatalf("staging directories left: %v", left)
	}
}

// TestTwoPodsShareOneStagedVolume: two pods on one claim: one stage, one
// format, two publishes; the other volumes set up; the first teardown
// unpublishes its pod only, the second unstages and detaches.
func TestTwoPodsShareOneStagedVolume(t *testing.T) {
	n := newNode(t)
	n.bind("claim", filePV("pv-1", false))
	m := n.manager()
	m.SetSourcesReady()
	ctx := context.Background()
	for _, uid := range []string{"u1", "u2"} {
		mounts, err := m.WaitForMount(ctx, claimPod(uid, "claim"))
		if err != nil {
			t.Fatal(err)
		}
		want := filepath.Join(n.root, "pods", uid, "volumes", "kubernetes.io~csi", "pv-1", "mount")
		if got := mounts["data"]; got.Path != want || got.ReadOnly || got.Block {
			t.Fatalf("data mounted as %+v, want %s", got, want)
		}
		if got := mounts["cm"]; !got.ReadOnly || !strings.HasSuffix(got.Path, "kubernetes.io~configmap/cm") {
			t.Fatalf("cm mounted as %+v", got)
		}
		if len(mounts) != 4 {
			t.Fatalf("mounts %v", mounts)
		}
	}
	if s, p := n.counts(); s != 1 || p != 2 {
		t.Fatalf("%d staged, %d published; want 1, 2", s, p)
	}
	if f := n.format.Formats(filepath.Join(n.root, "volumes-backing", "pv-1.img")); f != 1 {
		t.Fatalf("%d formats", f)
	}
	if err := m.TearDownPod(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if s, p := n.counts(); s != 1 || p != 1 {
		t.Fatalf("after one teardown: %d staged, %d published; want 1, 1", s, p)
	}
	if err := m.TearDownPod(ctx, "u2"); err != nil {
		t.Fatal(err)
	}
	for _, uid := range []string{"u1", "u2"} {
		if err := volumes.NewManager(n.mount, nil, slog.New(slog.NewTextHandler(io.Discard, nil))).RemovePodDir(filepath.Join(n.root, "pods"), uid); err != nil {
			t.Fatal(err)
		}
	}
	n.assertNothingLeft()
	if m := n.mount.Mounts(); len(m) != 0 {
		t.Fatalf("mounts left: %v", m)
	}
}

// TestRestartAdoptsPublishedVolumes: a restarted manager finds the staged
// and published volume on disk and in the mount table: it unstages
// nothing before the sources are ready, publishes nothing twice when the
// pod comes back, and cleans up when it goes.
func TestRestartAdoptsPublishedVolumes(t *testing.T) {
	n := newNode(t)
	n.bind("claim", filePV("pv-1", false))
	ctx := context.Background()
	pod := claimPod("u1", "claim")
	if _, err := n.manager().WaitForMount(ctx, pod); err != nil {
		t.Fatal(err)
	}
	m := n.manager() // restarted
	m.pass(ctx)
	if s, p := n.counts(); s != 1 || p != 1 {
		t.Fatalf("after a restart: %d staged, %d published", s, p)
	}
	if _, err := m.WaitForMount(ctx, pod); err != nil {
		t.Fatal(err)
	}
	m.SetSourcesReady()
	m.pass(ctx)
	if s, p := n.counts(); s != 1 || p != 1 {
		t.Fatalf("the pod back: %d staged, %d published", s, p)
	}
	if n.loop.Attachs != 1 {
		t.Fatalf("%d attaches", n.loop.Attachs)
	}
	if err := m.TearDownPod(ctx, pod.UID); err != nil {
		t.Fatal(err)
	}
	if s, p := n.counts(); s != 0 || p != 0 {
		t.Fatalf("after teardown: %d staged, %d published", s, p)
	}
}

// TestOrphanStagedVolumeIsUnstagedOnceSourcesAreReady: a volume staged by
// an agent that died before the publish (and whose pod is gone) is
// unstaged, but only once every pod is known.
func TestOrphanStagedVolumeIsUnstagedOnceSourcesAreReady(t *testing.T) {
	n := newNode(t)
	n.bind("claim", filePV("pv-1", false))
	ctx, cancel := context.WithCancel(context.Background())
	n.hold = func(_ context.Context, _ string, s localdriver.Step) {
		if s == localdriver.StepStaged {
			cancel() // the agent dies as the stage ends
		}
	}
	if _, err := n.manager().WaitForMount(ctx, claimPod("u1", "claim")); err == nil {
		t.Fatal("ready though the stage was cut short")
	}
	n.hold = nil
	m := n.manager()
	m.pass(context.Background())
	if s, _ := n.counts(); s != 1 {
		t.Fatal("unstaged before the sources were ready")
	}
	m.SetSourcesReady()
	m.pass(context.Background())
	n.assertNothingLeft()
}

// TestPendingClaimWaits: a claim that is not bound keeps the pod's
// volumes not ready with kubelet's message and one FailedMount event;
// once it is bound, a pass of the loop makes the pod ready and says so.
func TestPendingClaimWaits(t *testing.T) {
	n := newNode(t)
	m := n.manager()
	ctx := context.Background()
	pod := claimPod("u1", "claim")
	_, err := m.WaitForMount(ctx, pod)
	if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "unmounted volumes=[data]") || !strings.Contains(err.Error(), "is not bound") {
		t.Fatalf("WaitForMount: %v", err)
	}
	m.pass(ctx) // within the back-off: no new lookup, no new event
	if n.src.claims != 1 {
		t.Fatalf("%d claim lookups during the back-off", n.src.claims)
	}
	if ev := <-n.events.Events; !strings.Contains(ev, "FailedMount") || !strings.Contains(ev, "is not bound") {
		t.Fatalf("event %q", ev)
	}
	n.bind("claim", filePV("pv-1", false))
	n.clock.Step(time.Second)
	m.pass(ctx)
	select {
	case uid := <-n.ready:
		if uid != pod.UID {
			t.Fatalf("ready: %s", uid)
		}
	default:
		t.Fatal("OnReady was not called")
	}
	if _, err := m.Mounts(pod.UID); err != nil {
		t.Fatal(err)
	}
}

// TestFilesAreRefreshed: a configMap volume is written again after the
// refresh period, a downwardAPI volume as soon as the pod changes.
func TestFilesAreRefreshed(t *testing.T) {
	n := newNode(t)
	n.bind("claim", filePV("pv-1", false))
	n.src.files["cm"] = "v1"
	m := n.manager()
	ctx := context.Background()
	pod := claimPod("u1", "claim")
	mounts, err := m.WaitForMount(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	read := func(vol, file string) string {
		b, _ := os.ReadFile(filepath.Join(mounts[vol].Path, file))
		return string(b)
	}
	n.src.files["cm"] = "v2"
	m.pass(ctx)
	if got := read("cm", "key"); got != "v1" {
		t.Fatalf("rewritten before the refresh period: %q", got)
	}
	n.clock.Step(time.Minute)
	m.pass(ctx)
	if got := read("cm", "key"); got != "v2" {
		t.Fatalf("after the refresh period: %q", got)
	}
	updated := pod.DeepCopy()
	updated.ResourceVersion, updated.Labels["app"] = "2", "two"
	m.AddPod(updated)
	m.pass(ctx)
	if got := read("info", "labels"); got != "two" {
		t.Fatalf("downwardAPI after a label change: %q", got)
	}
}

// TestStageFailureIsReported: a PV of an unknown driver fails the pod's
// volume with kubelet's message; nothing is staged.
func TestStageFailureIsReported(t *testing.T) {
	n := newNode(t)
	pv := filePV("pv-1", false)
	pv.Spec.CSI.Driver = "ebs.csi.aws.com"
	n.bind("claim", pv)
	_, err := n.manager().WaitForMount(context.Background(), claimPod("u1", "claim"))
	if err == nil || !strings.Contains(err.Error(), "driver name ebs.csi.aws.com not found in the list of registered CSI drivers") {
		t.Fatalf("WaitForMount: %v", err)
	}
	if s, _ := n.counts(); s != 0 {
		t.Fatal("staged")
	}
}

// TestEmptyDirLimits: a memory emptyDir is a tmpfs of its sizeLimit (else
// of the pod's memory limit); a disk emptyDir with a sizeLimit is measured
// every refresh period, and going over the limit is a Warning event.
func TestEmptyDirLimits(t *testing.T) {
	n := newNode(t)
	m := n.manager()
	limit := resource.MustParse("16Ki")
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u1"}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}}}},
		Volumes: []corev1.Volume{
			{Name: "ram", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: &limit}}},
			{Name: "ram-pod", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}},
			{Name: "disk", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &limit}}},
		}}}
	mounts, err := m.WaitForMount(context.Background(), pod)
	if err != nil {
		t.Fatal(err)
	}
	for vol, want := range map[string]string{"ram": "mode=0777,size=16384", "ram-pod": "mode=0777,size=67108864"} {
		if got := n.mount.Mounts()[mounts[vol].Path]; got.Type != "tmpfs" || got.Options != want {
			t.Errorf("%s: %+v, want a tmpfs with %s", vol, got, want)
		}
	}
	if err := os.WriteFile(filepath.Join(mounts["disk"].Path, "big"), make([]byte, 64<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	m.pass(context.Background())
	if u := m.Usage(pod.UID)["disk"]; u != 0 && u >= 64<<10 {
		t.Fatalf("measured before the refresh period: %d", u)
	}
	n.clock.Step(time.Minute)
	m.pass(context.Background())
	if u := m.Usage(pod.UID)["disk"]; u < 64<<10 {
		t.Fatalf("usage %d, want at least 64 KiB", u)
	}
	select {
	case ev := <-n.events.Events:
		if !strings.Contains(ev, `Warning EmptyDirSizeLimitExceeded Usage of EmptyDir volume "disk" exceeds the limit "16Ki".`) {
			t.Fatalf("event %q", ev)
		}
	default:
		t.Fatal("no event")
	}
	n.clock.Step(time.Minute)
	m.pass(context.Background())
	if len(n.events.Events) != 0 {
		t.Fatal("a second event while the volume stays over its limit")
	}
}
