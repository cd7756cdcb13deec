package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	crifake "github.com/nodeagent/nodeagent/cri/fake"
)

// canary is a host file outside the agent's directories that no volume
// operation may change.
func canary(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "canary")
	if err := os.WriteFile(p, []byte("host file"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func canaryIntact(t *testing.T, p string) {
	t.Helper()
	st, err := os.Lstat(p)
	if err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
		t.Fatalf("the host file changed: %v %v", st, err)
	}
	if b, _ := os.ReadFile(p); string(b) != "host file" {
		t.Fatalf("the host file was written: %q", b)
	}
}

// volumePod is a pod with one volume, mounted by container c (with the
// subPath, if any).
func volumePod(v corev1.VolumeSource, subPath string) *corev1.Pod {
	p := podSpec(corev1.RestartPolicyAlways, nil, "c")
	p.Spec.NodeName = "n1"
	p.Spec.Volumes = []corev1.Volume{{Name: "v", VolumeSource: v}}
	p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "v", MountPath: "/v", SubPath: subPath}}
	return p
}

func (h *harness) volumeMount(pod *corev1.Pod) (string, bool, error) {
	h.t.Helper()
	if err := os.MkdirAll(h.a.podDir(string(pod.UID)), 0o750); err != nil { // as the sandbox makes it
		h.t.Fatal(err)
	}
	// The tests change the pod's volume between calls, which a pod in the
	// API cannot do: the manager sets the volume up anew for each.
	h.a.volumeManager.RemovePod(pod.UID)
	if _, err := h.a.volumeManager.WaitForMount(h.ctx, pod); err != nil {
		return "", false, err
	}
	ms, _, err := h.a.volumeMounts(pod, pod.Spec.Containers[0], nil)
	if err != nil {
		return "", false, err
	}
	if len(ms) != 1 {
		h.t.Fatalf("mounts %+v", ms)
	}
	return ms[0].HostPath, ms[0].ReadOnly, nil
}

// TestConfigMapVolumeSymlinkIsNotFollowed: a container replaced a key of
// its configMap volume with a symlink to a host file; when the ConfigMap
// changes and the volume is written again, the host file stays as it was.
// The volume is read-only to containers.
func TestConfigMapVolumeSymlinkIsNotFollowed(t *testing.T) {
	host := canary(t)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "ns"}, Data: map[string]string{"key": "v1"}}
	pod := volumePod(corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}, "")
	h := newHarness(t, crifake.New(), pod)
	if _, err := h.client.CoreV1().ConfigMaps("ns").Create(h.ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dir, ro, err := h.volumeMount(pod)
	if err != nil {
		t.Fatal(err)
	}
	if !ro {
		t.Error("a configMap volume must be mounted read-only")
	}
	if err := os.Remove(filepath.Join(dir, "key")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(host, filepath.Join(dir, "key")); err != nil {
		t.Fatal(err)
	}
	cm.Data["key"] = "v2"
	if _, err := h.client.CoreV1().ConfigMaps("ns").Update(h.ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.volumeMount(pod); err != nil {
		t.Fatal(err)
	}
	canaryIntact(t, host)
	if b, err := os.ReadFile(filepath.Join(dir, "key")); err != nil || string(b) != "v2" {
		t.Fatalf("the volume reads %q %v, want v2", b, err)
	}
}

// TestSubPathSymlinkOutOfTheVolumeIsRefused: an init container planted a
// symlink to a host directory in an emptyDir; a subPath through it is
// refused with a clear error instead of being handed to the runtime.
func TestSubPathSymlinkOutOfTheVolumeIsRefused(t *testing.T) {
	host := canary(t)
	empty := volumePod(corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}, "")
	h := newHarness(t, crifake.New(), empty)
	dir, _, err := h.volumeMount(empty)
	if err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"root": "/", "hostdir": filepath.Dir(host), "hostfile": host} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		pod := volumePod(corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}, name)
		p, _, err := h.volumeMount(pod)
		if err == nil {
			t.Errorf("subPath %s: the runtime would mount %s", name, p)
			continue
		}
		if !strings.Contains(err.Error(), `failed to prepare subPath "`+name+`" for volumeMount "v" of container "c"`) {
			t.Errorf("subPath %s: %v", name, err)
		}
	}
	canaryIntact(t, host)
}

// TestHostPathIntoTheAgentsStateIsRefused: a hostPath of the agent's root
// directory (other pods' volumes, its keys), directly or through a
// symlink, is refused.
func TestHostPathIntoTheAgentsStateIsRefused(t *testing.T) {
	h := newHarness(t, crifake.New())
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(h.a.cfg.RootDir, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{h.a.cfg.RootDir, filepath.Join(h.a.cfg.RootDir, "pods"), link} {
		pod := volumePod(corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: p}}, "")
		if got, _, err := h.volumeMount(pod); err == nil || !strings.Contains(err.Error(), "agent's own state") {
			t.Errorf("hostPath %s: mounted %q (%v)", p, got, err)
		}
	}
	ok := t.TempDir()
	pod := volumePod(corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: ok}}, "")
	if got, _, err := h.volumeMount(pod); err != nil || got != ok {
		t.Errorf("hostPath %s: %q %v", ok, got, err)
	}
}

// TestHostPathIntoProtectedPathsIsRefused: the embedded server's data dir
// (etcd, the CA key) is as out of reach as the agent's own state.
func TestHostPathIntoProtectedPathsIsRefused(t *testing.T) {
	h := newHarness(t, crifake.New())
	serverDir := t.TempDir()
	h.a.cfg.ProtectedPaths = []string{serverDir}
	h.resetVolumes()
	for _, p := range []string{serverDir, filepath.Join(serverDir, "pki")} {
		pod := volumePod(corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: p}}, "")
		if got, _, err := h.volumeMount(pod); err == nil || !strings.Contains(err.Error(), "agent's own state") {
			t.Errorf("hostPath %s: mounted %q (%v)", p, got, err)
		}
	}
}

// TestTeardownRefusesBadUIDs: a network namespace named <prefix>.. (or a
// cgroup pod..) must not make cleanup remove the agent's root directory.
func TestTeardownRefusesBadUIDs(t *testing.T) {
	h := newHarness(t, crifake.New())
	keep := filepath.Join(h.a.cfg.RootDir, "keep")
	if err := os.WriteFile(keep, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"..", "...", "x"} {
		if err := os.WriteFile(filepath.Join(h.a.cfg.NetNSDir, h.a.cfg.NetNSPrefix+name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if got := h.a.netnsUIDs(); len(got) != 1 || got[0] != "x" {
		t.Errorf("netns uids %q, want x only", got)
	}
	for _, uid := range []string{"..", "", "../x", "a/b"} {
		if err := h.a.teardown(h.ctx, uid); err == nil {
			t.Errorf("teardown(%q) was not refused", uid)
		}
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("the agent's state was removed: %v", err)
	}
	bad := podSpec(corev1.RestartPolicyAlways, nil, "c")
	bad.UID = ".."
	if err := h.a.syncPod(h.ctx, bad); err == nil || len(h.containers()) != 0 {
		t.Fatalf("a pod with uid .. was synced: %v %+v", err, h.containers())
	}
}

// TestSecretVolume: on a tmpfs, files with defaultMode or the item's
// mode, read-only; the pod's teardown unmounts it and removes the pod
// directory.
func TestSecretVolume(t *testing.T) {
	mode, itemMode := int32(0o440), int32(0o400)
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"}, Data: map[string][]byte{"a": []byte("1"), "b": []byte("2")}}
	src := &corev1.SecretVolumeSource{SecretName: "s", DefaultMode: &mode}
	pod := volumePod(corev1.VolumeSource{Secret: src}, "")
	h := newHarness(t, crifake.New(), pod)
	if _, err := h.client.CoreV1().Secrets("ns").Create(h.ctx, s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dir, ro, err := h.volumeMount(pod)
	if err != nil || !ro {
		t.Fatalf("%s read-only=%v: %v", dir, ro, err)
	}
	if m := h.mounts.Mounts()[dir]; m.Type != "tmpfs" {
		t.Fatalf("mounts %+v, want a tmpfs on %s", h.mounts.Mounts(), dir)
	}
	want := map[string]os.FileMode{"a": 0o440, "b": 0o440}
	for name, m := range want {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Mode().Perm() != m {
			t.Errorf("%s: %v %v, want mode %o", name, st, err, m)
		}
	}
	src.Items = []corev1.KeyToPath{{Key: "a", Path: "x/a", Mode: &itemMode}, {Key: "b", Path: "b"}}
	if _, _, err := h.volumeMount(pod); err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]os.FileMode{"x/a": 0o400, "b": 0o440} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Mode().Perm() != m {
			t.Errorf("%s: %v %v, want mode %o", name, st, err, m)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "a")); !os.IsNotExist(err) {
		t.Error("a key no longer projected is still there")
	}
	src.Items = append(src.Items, corev1.KeyToPath{Key: "missing", Path: "m"})
	if _, _, err := h.volumeMount(pod); err == nil || !strings.Contains(err.Error(), "references non-existent secret key: missing") {
		t.Errorf("a missing key: %v", err)
	}
	if err := h.a.teardown(h.ctx, string(pod.UID)); err != nil {
		t.Fatal(err)
	}
	if len(h.mounts.Mounts()) != 0 {
		t.Fatalf("left mounted: %+v", h.mounts.Mounts())
	}
	if _, err := os.Stat(h.a.podDir(string(pod.UID))); !os.IsNotExist(err) {
		t.Fatalf("the pod directory is left: %v", err)
	}
}

// TestSubPathIsBoundOnAPodTarget: the runtime gets the pod-owned target
// on which the subPath inside the volume is bound; teardown unmounts it.
func TestSubPathIsBoundOnAPodTarget(t *testing.T) {
	pod := volumePod(corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}, "sub/dir")
	h := newHarness(t, crifake.New(), pod)
	target, _, err := h.volumeMount(pod)
	if err != nil {
		t.Fatal(err)
	}
	podDir := h.a.podDir(string(pod.UID))
	if want := filepath.Join(podDir, "volume-subpaths", "v", "c", "0"); target != want {
		t.Fatalf("target %s, want %s", target, want)
	}
	if src := h.mounts.Mounts()[target].Source; src != filepath.Join(podDir, "volumes", "kubernetes.io~empty-dir", "v", "sub", "dir") {
		t.Fatalf("bound %q", src)
	}
	if err := h.a.teardown(h.ctx, string(pod.UID)); err != nil {
		t.Fatal(err)
	}
	if len(h.mounts.Mounts()) != 0 {
		t.Fatalf("left mounted: %+v", h.mounts.Mounts())
	}
}

// TestOptionalConfigMapVolumeIsEmpty: an optional ConfigMap that does not
// exist gives an empty volume (kubelet's), not an empty host path.
func TestOptionalConfigMapVolumeIsEmpty(t *testing.T) {
	yes := true
	pod := volumePod(corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "none"}, Optional: &yes}}, "")
	h := newHarness(t, crifake.New(), pod)
	dir, _, err := h.volumeMount(pod)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "..") {
			t.Errorf("an optional missing ConfigMap's volume holds %s", e.Name())
		}
	}
}

// TestDownwardAPIVolume: fields, label maps in kubelet's format, a
// container's resource, modes; read-only like the other projected volumes.
func TestDownwardAPIVolume(t *testing.T) {
	mode := int32(0o400)
	pod := volumePod(corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
		{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}},
		{Path: "meta/labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}, Mode: &mode},
		{Path: "cpu", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "c", Resource: "limits.cpu", Divisor: resource.MustParse("1m")}},
	}}}, "")
	pod.Labels = map[string]string{"b": "2", "a": `x"y`}
	pod.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}
	h := newHarness(t, crifake.New(), pod)
	dir, ro, err := h.volumeMount(pod)
	if err != nil || !ro {
		t.Fatalf("%s read-only=%v: %v", dir, ro, err)
	}
	for p, want := range map[string]string{"name": "p", "meta/labels": "a=\"x\\\"y\"\nb=\"2\"", "cpu": "250"} {
		if b, err := os.ReadFile(filepath.Join(dir, p)); err != nil || string(b) != want {
			t.Errorf("%s: %q %v, want %q", p, b, err, want)
		}
	}
	if st, _ := os.Stat(filepath.Join(dir, "meta/labels")); st.Mode().Perm() != 0o400 {
		t.Errorf("item mode %v", st.Mode())
	}
	if m := h.mounts.Mounts()[dir]; m.Type != "tmpfs" {
		t.Errorf("mounts %+v", h.mounts.Mounts())
	}
}
