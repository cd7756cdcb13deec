package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/nodeagent/nodeagent/agent/volumemanager"
	"github.com/nodeagent/nodeagent/api/localvolume"
	crifake "github.com/nodeagent/nodeagent/cri/fake"
	"github.com/nodeagent/nodeagent/volumes/localdriver"
)

// boundClaim creates a claim and a file-backed PV bound to it on the
// agent's node, as the control plane's binder leaves them, and the
// volume's attachment there, as the attach/detach controller makes it.
func (h *harness) boundClaim(name string) {
	h.t.Helper()
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: "claim-" + "uid"},
		Spec:   corev1.PersistentVolumeClaimSpec{VolumeName: "pv-" + name},
		Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound}}
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv-" + name}, Spec: corev1.PersistentVolumeSpec{
		AccessModes:  []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		ClaimRef:     &corev1.ObjectReference{Namespace: "ns", Name: name, UID: pvc.UID},
		NodeAffinity: localvolume.NodeAffinity(h.a.cfg.NodeName),
		PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: localdriver.Name,
			VolumeHandle: "pv-" + name, FSType: "ext4", VolumeAttributes: map[string]string{"backing": "file", "size": "1048576"}}}}}
	if _, err := h.client.CoreV1().PersistentVolumeClaims("ns").Create(h.ctx, pvc, metav1.CreateOptions{}); err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.client.CoreV1().PersistentVolumes().Create(h.ctx, pv, metav1.CreateOptions{}); err != nil {
		h.t.Fatal(err)
	}
	va := &storagev1.VolumeAttachment{ObjectMeta: metav1.ObjectMeta{Name: localvolume.AttachmentName(pv.Name, localvolume.Driver, h.a.cfg.NodeName)},
		Spec: storagev1.VolumeAttachmentSpec{Attacher: localvolume.Driver, NodeName: h.a.cfg.NodeName,
			Source: storagev1.VolumeAttachmentSource{PersistentVolumeName: &pv.Name}},
		Status: storagev1.VolumeAttachmentStatus{Attached: true}}
	if _, err := h.client.StorageV1().VolumeAttachments().Create(h.ctx, va, metav1.CreateOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

// TestPodStartsOnlyOnItsPublishedClaim: a pod whose claim does not exist
// yet gets no sandbox and no container (and its sync does not fail: the
// volume manager wakes it); once the claim is bound, the container gets
// the published volume, staged once at the node's staging path; the
// pod's deletion unpublishes and unstages it before its directory goes.
func TestPodStartsOnlyOnItsPublishedClaim(t *testing.T) {
	pod := volumePod(corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}, "")
	rt := crifake.New()
	rt.AddImage("img")
	h := newHarness(t, rt, pod)
	h.a.volumeManager.SetSourcesReady() // as the first housekeeping does
	h.sync("ns/p")
	if sbs, _ := rt.ListPodSandboxes(h.ctx, nil); len(sbs) != 0 || len(h.containers()) != 0 {
		t.Fatalf("the pod started before its claim was bound: %d sandboxes, %d containers", len(sbs), len(h.containers()))
	}
	_, err := h.a.volumeManager.Mounts(pod.UID)
	if err == nil || !strings.Contains(err.Error(), `persistentvolumeclaims "data" not found`) {
		t.Fatalf("why the pod waits: %v", err)
	}

	h.boundClaim("data")
	h.clock.Step(time.Minute) // past the lookup's back-off
	h.sync("ns/p")
	cs := h.containers()
	if len(cs) != 1 {
		t.Fatalf("containers %+v", cs)
	}
	cfg, _ := rt.ContainerConfig(cs[0].ID)
	publish := filepath.Join(h.a.podDir(string(pod.UID)), "volumes", "kubernetes.io~csi", "pv-data", "mount")
	if len(cfg.Mounts) != 1 || cfg.Mounts[0].HostPath != publish || cfg.Mounts[0].ReadOnly {
		t.Fatalf("container mounts %+v, want %s read-write", cfg.Mounts, publish)
	}
	mounts := h.mounts.Mounts()
	if m := mounts[publish]; m.Type != "bind" || !strings.HasSuffix(m.Source, "/globalmount") {
		t.Fatalf("publish %+v", m)
	}
	if m := mounts[h.mounts.Mounts()[publish].Source]; m.Type != "ext4" {
		t.Fatalf("staging mount %+v", m)
	}

	if err := h.a.teardown(h.ctx, string(pod.UID)); err != nil {
		t.Fatal(err)
	}
	if m := h.mounts.Mounts(); len(m) != 0 {
		t.Fatalf("mounts left: %v", m)
	}
	if staged, _ := filepath.Glob(filepath.Join(h.a.cfg.RootDir, "plugins", "kubernetes.io", "csi", "*", "*")); len(staged) != 0 {
		t.Fatalf("staging directories left: %v", staged)
	}
}

// TestVolumeDevices: a block volume is given as a device, read-only for a
// read-only claim; a filesystem volume in volumeDevices (or a block one in
// volumeMounts) is refused with kubelet's words.
func TestVolumeDevices(t *testing.T) {
	ready := map[string]volumemanager.Mounted{"raw": {Path: "/r/dev", Block: true}, "ro": {Path: "/r/ro", Block: true, ReadOnly: true},
		"fs": {Path: "/r/mount"}}
	spec := corev1.Container{VolumeDevices: []corev1.VolumeDevice{{Name: "raw", DevicePath: "/dev/xvda"}, {Name: "ro", DevicePath: "/dev/xvdb"}}}
	devs, err := volumeDevices(spec, ready)
	if err != nil || len(devs) != 2 || devs[0].HostPath != "/r/dev" || devs[0].ContainerPath != "/dev/xvda" ||
		devs[0].Permissions != "rw" || devs[1].Permissions != "r" {
		t.Fatalf("devices %+v %v", devs, err)
	}
	spec.VolumeDevices = []corev1.VolumeDevice{{Name: "fs", DevicePath: "/dev/xvda"}}
	if _, err := volumeDevices(spec, ready); err == nil || !strings.Contains(err.Error(), "has volumeMode Filesystem, but is specified in volumeDevices") {
		t.Fatalf("a filesystem volume as a device: %v", err)
	}
}

// TestSubPathExpr: the container's env expands the subPathExpr, whose
// result is then a subPath like any other: made inside the volume and
// bound; one that expands to ".." is refused.
func TestSubPathExpr(t *testing.T) {
	pod := volumePod(corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}, "")
	pod.Spec.Containers[0].VolumeMounts[0].SubPathExpr = "logs/$(POD)"
	h := newHarness(t, crifake.New(), pod)
	if _, err := h.a.volumeManager.WaitForMount(h.ctx, pod); err != nil {
		t.Fatal(err)
	}
	ms, _, err := h.a.volumeMounts(pod, pod.Spec.Containers[0], []string{"POD=web-0"})
	if err != nil {
		t.Fatal(err)
	}
	if m := h.mounts.Mounts()[ms[0].HostPath]; m.Type != "bind" || !strings.HasSuffix(m.Source, "kubernetes.io~empty-dir/v/logs/web-0") {
		t.Fatalf("subPathExpr bound %+v onto %s", m, ms[0].HostPath)
	}
	_, _, err = h.a.volumeMounts(pod, pod.Spec.Containers[0], []string{"POD=.."})
	if err == nil || !strings.Contains(err.Error(), "must not contain '..'") {
		t.Fatalf("a subPathExpr expanding to ..: %v", err)
	}
}

// TestProjectedServiceAccountToken: a projected volume's token comes from
// the TokenRequest API, bound to the pod, and is requested again once 80%
// of its lifetime has passed (not before).
func TestProjectedServiceAccountToken(t *testing.T) {
	exp := int64(3600)
	pod := volumePod(corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
		{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: &exp, Audience: "vault"}},
		{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}},
	}}}, "")
	pod.Spec.ServiceAccountName = "app"
	h := newHarness(t, crifake.New(), pod)
	var requests []*authenticationv1.TokenRequest
	h.client.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		ca := a.(k8stesting.CreateAction)
		if ca.GetSubresource() != "token" {
			return false, nil, nil
		}
		tr := ca.GetObject().(*authenticationv1.TokenRequest).DeepCopy()
		requests = append(requests, tr)
		tr.Status = authenticationv1.TokenRequestStatus{Token: "tok-" + string(rune('0'+len(requests))),
			ExpirationTimestamp: metav1.NewTime(h.clock.Now().Add(time.Hour))}
		return true, tr, nil
	})
	read := func() string {
		dir, _, err := h.volumeMountNoReset(pod)
		if err != nil {
			t.Fatal(err)
		}
		return readFile(t, filepath.Join(dir, "token")) + " " + readFile(t, filepath.Join(dir, "name"))
	}
	if got := read(); got != "tok-1 p" {
		t.Fatalf("volume: %q", got)
	}
	r := requests[0]
	if r.Spec.BoundObjectRef == nil || r.Spec.BoundObjectRef.UID != pod.UID || r.Spec.BoundObjectRef.Kind != "Pod" ||
		len(r.Spec.Audiences) != 1 || r.Spec.Audiences[0] != "vault" || *r.Spec.ExpirationSeconds != 3600 {
		t.Fatalf("token request %+v", r.Spec)
	}
	h.clock.Step(40 * time.Minute)
	if got := read(); got != "tok-1 p" || len(requests) != 1 {
		t.Fatalf("at 40 minutes: %q after %d requests, want the first token", got, len(requests))
	}
	h.clock.Step(9 * time.Minute)
	if got := read(); got != "tok-2 p" {
		t.Fatalf("at 49 minutes (past 80%%): %q, want a new token", got)
	}
}

// volumeMountNoReset is the pod's one volume after a reconcile pass of
// the volume manager (a refresh when one is due).
func (h *harness) volumeMountNoReset(pod *corev1.Pod) (string, bool, error) {
	h.t.Helper()
	if _, err := h.a.volumeManager.WaitForMount(h.ctx, pod); err != nil {
		return "", false, err
	}
	h.a.volumeManager.Reconcile(h.ctx)
	ms, _, err := h.a.volumeMounts(pod, pod.Spec.Containers[0], nil)
	if err != nil {
		return "", false, err
	}
	return ms[0].HostPath, ms[0].ReadOnly, nil
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEphemeralClaimMustBeThePods: a generic ephemeral volume uses the
// claim <pod>-<volume> only if the pod controls it (kubelet's check): a
// claim of that name made by someone else is refused, not mounted.
func TestEphemeralClaimMustBeThePods(t *testing.T) {
	pod := volumePod(corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}, "")
	h := newHarness(t, crifake.New(), pod)
	h.boundClaim("p-v") // no owner
	_, err := h.a.volumeManager.WaitForMount(h.ctx, pod)
	if err == nil || !strings.Contains(err.Error(), "PVC ns/p-v was not created for pod ns/p (pod is not owner)") {
		t.Fatalf("a claim not owned by the pod: %v", err)
	}
	if len(h.mounts.Mounts()) != 0 {
		t.Fatalf("mounted: %v", h.mounts.Mounts())
	}
	yes := true
	pvc, _ := h.client.CoreV1().PersistentVolumeClaims("ns").Get(h.ctx, "p-v", metav1.GetOptions{})
	pvc.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: "p", UID: pod.UID, Controller: &yes}}
	if _, err := h.client.CoreV1().PersistentVolumeClaims("ns").Update(h.ctx, pvc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.clock.Step(time.Minute)
	if _, err := h.a.volumeManager.WaitForMount(h.ctx, pod); err != nil {
		t.Fatalf("the pod's own claim: %v", err)
	}
}

// TestClaimAndVolumeNameEachOther: the volume a claim names is used only
// if its claimRef names the claim back (namespace, name and UID).
func TestClaimAndVolumeNameEachOther(t *testing.T) {
	pod := volumePod(corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}, "")
	h := newHarness(t, crifake.New(), pod)
	h.boundClaim("data")
	pv, _ := h.client.CoreV1().PersistentVolumes().Get(h.ctx, "pv-data", metav1.GetOptions{})
	pv.Spec.ClaimRef.Name = "other"
	if _, err := h.client.CoreV1().PersistentVolumes().Update(h.ctx, pv, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := h.a.volumeManager.WaitForMount(h.ctx, pod)
	if err == nil || !strings.Contains(err.Error(), `found PV object "pv-data" but its pv.Spec.ClaimRef (ns/other) does not name claim ns/data`) {
		t.Fatalf("a volume that names another claim: %v", err)
	}
	if len(h.mounts.Mounts()) != 0 {
		t.Fatalf("mounted: %v", h.mounts.Mounts())
	}
}
