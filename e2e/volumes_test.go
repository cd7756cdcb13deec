//go:build linux && e2e

package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// Persistent volumes on the node, for real: file-backed volumes of
// local.nodeagent.io attached as loop devices, formatted by mkfs, mounted
// once per node and bound into each pod. Until the control plane binds
// claims, the tests make static PVs and PVCs bound by volumeName (the
// claim's status set Bound, the volume's claimRef naming it, as the
// binder does).

// staticVolume makes a file-backed PV and a claim bound to it.
type staticVolume struct {
	name   string // the PV's and the claim's
	size   int64  // bytes
	fsType string // "" for a block volume
}

func (v staticVolume) block() bool { return v.fsType == "" }

func (v staticVolume) claim() string {
	mode := "Filesystem"
	if v.block() {
		mode = "Block"
	}
	return fmt.Sprintf(`apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: %s}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  volumeName: %s
  volumeMode: %s
  resources: {requests: {storage: "%d"}}
`, v.name, v.name, mode, v.size)
}

func (v staticVolume) volume(claimUID string) string {
	mode, fs := "Filesystem", "fsType: "+v.fsType
	if v.block() {
		mode, fs = "Block", ""
	}
	return fmt.Sprintf(`apiVersion: v1
kind: PersistentVolume
metadata: {name: %s}
spec:
  capacity: {storage: "%d"}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  volumeMode: %s
  claimRef: {namespace: default, name: %s, uid: %s}
  csi:
    driver: local.nodeagent.io
    volumeHandle: %s
    %s
    volumeAttributes: {backing: file, size: "%d"}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [%s]}]
`, v.name, v.size, mode, v.name, claimUID, v.name, fs, v.size, nodeName)
}

// create makes the claim, then the volume bound to it, then marks the
// claim Bound.
func (v staticVolume) create(t *testing.T, l *agentLab) {
	t.Helper()
	l.k.ok(v.claim(), "apply", "-f", "-")
	uid := l.jsonpath("pvc/"+v.name, "{.metadata.uid}")
	l.k.ok(v.volume(uid), "apply", "-f", "-")
	l.k.ok("", "patch", "pvc", v.name, "--subresource=status", "--type=merge", "-p", `{"status":{"phase":"Bound"}}`)
}

// claimPod runs script in a pod with the claim mounted at /data (or, for
// a block claim, its device at /dev/xvda).
func claimPod(name, claim string, block bool, script string) string {
	mount := `volumeMounts: [{name: data, mountPath: /data}]`
	if block {
		mount = `volumeDevices: [{name: data, devicePath: /dev/xvda}]`
	}
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: %s
    command: [sh, -c, %q]
    %s
  volumes: [{name: data, persistentVolumeClaim: {claimName: %s}}]
`, name, framework.TestImage(), script, mount, claim)
}

// deletePod deletes a pod and waits until it is gone.
func (l *agentLab) deletePod(t *testing.T, name string) {
	t.Helper()
	l.k.ok("", "delete", "pod", name, "--wait=false")
	l.waitGone(t, name)
}

// volumesLeft lists what volumes left on the node: loop devices of its
// backing files, mounts beneath its root, staging directories.
func (l *agentLab) volumesLeft() error {
	left := framework.LoopsUnder(l.dirs.Root)
	left = append(left, framework.MountsUnder(l.dirs.Root)...)
	staged, _ := filepath.Glob(filepath.Join(l.dirs.Root, "plugins", "kubernetes.io", "csi", "*", "*"))
	left = append(left, staged...)
	if len(left) > 0 {
		return fmt.Errorf("left behind: %v", left)
	}
	return nil
}

// formats counts the agent's "formatting a volume" log lines.
func formats(t *testing.T, logPath string) int {
	t.Helper()
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "formatting a volume")
}

// TestPVCKeepsDataAcrossPods: a pod writes to a 256 MiB ext4 claim and is
// deleted (the volume is unpublished, unstaged and its loop device
// detached); a new pod on the claim reads the data; the volume was
// formatted once.
func TestPVCKeepsDataAcrossPods(t *testing.T) {
	l := startAgentLab(t)
	v := staticVolume{name: "data", size: 256 << 20, fsType: "ext4"}
	v.create(t, l)
	l.k.ok(claimPod("writer", "data", false, "echo kept-on-disk > /data/f && sync && cat /data/f && sleep 3600"), "apply", "-f", "-")
	l.logsContain(t, "writer", "c", "kept-on-disk")
	if devs := framework.LoopsUnder(l.dirs.Root); len(devs) != 1 {
		t.Fatalf("loop devices of the volume: %v, want one", devs)
	}
	l.deletePod(t, "writer")
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "the volume unstaged", l.volumesLeft)

	l.k.ok(claimPod("reader", "data", false, "cat /data/f; df -T /data | tail -1; echo read-done; sleep 3600"), "apply", "-f", "-")
	// all of the reader's output, not only its first line (under TCG the
	// df line came after the logs were read)
	logs := l.logsContain(t, "reader", "c", "read-done")
	if !strings.Contains(logs, "kept-on-disk") {
		t.Errorf("the reader did not find the writer's data: %q", logs)
	}
	if !strings.Contains(logs, "ext4") {
		t.Errorf("the claim is not an ext4 filesystem: %q", logs)
	}
	if n := formats(t, l.srv.LogPath); n != 1 {
		t.Fatalf("the volume was formatted %d times, want once", n)
	}
	l.deletePod(t, "reader")
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "nothing left", l.volumesLeft)
}

// TestXFSAndBlockClaims: an xfs claim is mounted as xfs and given to the
// pod's fsGroup (a container running as another user writes to it); a
// block claim is the container's /dev/xvda, a block device it can read and
// write.
func TestXFSAndBlockClaims(t *testing.T) {
	l := startAgentLab(t)
	staticVolume{name: "xfs", size: 320 << 20, fsType: "xfs"}.create(t, l)
	staticVolume{name: "raw", size: 16 << 20}.create(t, l)
	// fsGroup: a non-root container writes to the claim through its group.
	xfs := strings.Replace(claimPod("xfs", "xfs", false, "df -T /data | tail -1; touch /data/mine && stat -c group=%g /data/mine; sleep 3600"),
		"  containers:", "  securityContext: {runAsUser: 1000, fsGroup: 2000}\n  containers:", 1)
	l.k.ok(xfs, "apply", "-f", "-")
	l.k.ok(claimPod("raw", "raw", true,
		"test -b /dev/xvda && echo block-device; echo raw-bytes | dd of=/dev/xvda 2>/dev/null; dd if=/dev/xvda bs=9 count=1 2>/dev/null; echo; sleep 3600"),
		"apply", "-f", "-")
	l.logsContain(t, "xfs", "c", "group=2000")
	if logs := l.logsContain(t, "xfs", "c", "xfs"); !strings.Contains(logs, "xfs") {
		t.Fatalf("not an xfs filesystem: %q", logs)
	}
	logs := l.logsContain(t, "raw", "c", "raw-bytes")
	if !strings.Contains(logs, "block-device") {
		t.Fatalf("/dev/xvda is not a block device in the container: %q", logs)
	}
	l.deletePod(t, "xfs")
	l.deletePod(t, "raw")
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "nothing left", l.volumesLeft)
}

// TestVolumeStageSurvivesKill9BetweenFormatAndMount: the agent is killed
// (SIGKILL) after it formatted a new volume and before it mounted it; the
// agent started again mounts it without a second format, the pod runs
// and keeps its data, and deleting it leaves nothing.
func TestVolumeStageSurvivesKill9BetweenFormatAndMount(t *testing.T) {
	t.Setenv("NODEAGENT_TEST_HOLD_VOLUME_STEP", "mount")
	l, agent := splitAgentLab(t)
	staticVolume{name: "held", size: 64 << 20, fsType: "ext4"}.create(t, l)
	l.k.ok(claimPod("held", "held", false, "echo survived > /data/f && cat /data/f && sleep 3600"), "apply", "-f", "-")
	framework.Eventually(t, 90*time.Second, 200*time.Millisecond, "the stage held before the mount", func() error {
		if !strings.Contains(agent.Log(), "test hold: volume held stopped before step mount") {
			return fmt.Errorf("not in the agent log yet")
		}
		return nil
	})
	agent.Kill9()
	img := filepath.Join(l.dirs.Root, "volumes-backing", "held.img")
	if out, err := exec.Command("blkid", "-p", "-s", "TYPE", "-o", "value", img).Output(); err != nil || strings.TrimSpace(string(out)) != "ext4" {
		t.Fatalf("the backing file is not formatted at the kill: %q %v", out, err)
	}
	// The held volume is neither staged nor published; the pod's other
	// volume (kube-api-access, a projected tmpfs) may be mounted already.
	mounts := slices.DeleteFunc(framework.MountsUnder(l.dirs.Root), func(m string) bool {
		return strings.Contains(m, "/volumes/kubernetes.io~projected/")
	})
	if len(mounts) != 0 {
		t.Fatalf("mounts of the held volume at the kill: %q, want none", mounts)
	}
	os.Unsetenv("NODEAGENT_TEST_HOLD_VOLUME_STEP")
	agent.Start()
	l.waitFor(t, 90*time.Second, "pod/held", "{.status.phase}", "Running")
	// This agent has no serving certificate for kubectl logs: the test
	// reads the pod's file through the volume's publish on the node.
	uid := l.jsonpath("pod/held", "{.metadata.uid}")
	f := filepath.Join(l.dirs.Root, "pods", uid, "volumes", "kubernetes.io~csi", "held", "mount", "f")
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "the pod's file on the volume", func() error {
		if b, err := os.ReadFile(f); err != nil || string(b) != "survived\n" {
			return fmt.Errorf("%q %v", b, err)
		}
		return nil
	})
	if n := strings.Count(agent.Log(), "formatting a volume"); n != 1 {
		t.Fatalf("formatted %d times across the restart, want once", n)
	}
	if devs := framework.LoopsUnder(l.dirs.Root); len(devs) != 1 {
		t.Fatalf("loop devices after the restart: %v, want one", devs)
	}
	l.deletePod(t, "held")
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "nothing left", l.volumesLeft)

	// The cleanup path: a pod on the volume runs, the agent is killed,
	// `nodeagent agent --cleanup` unpublishes, unstages and detaches.
	l.k.ok(claimPod("again", "held", false, "sleep 3600"), "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/again", "{.status.phase}", "Running")
	if err := l.volumesLeft(); err == nil {
		t.Fatal("the running pod's volume is neither attached nor mounted")
	}
	agent.Kill9()
	cleanup := exec.Command(framework.Binary(t), append([]string{"agent", "--cleanup"}, l.dirs.AgentArgs(nodeName)...)...)
	var out strings.Builder
	cleanup.Stdout, cleanup.Stderr = &out, &out
	if err := l.node.Run(cleanup); err != nil {
		t.Fatalf("agent --cleanup: %v\n%s", err, out.String())
	}
	if err := errors.Join(l.volumesLeft(), l.leftovers()); err != nil {
		t.Fatalf("after agent --cleanup: %v\n%s", err, out.String())
	}
	if _, err := os.Stat(img); err != nil {
		t.Fatalf("agent --cleanup removed the volume's data: %v", err)
	}
}

const liveVolumesPod = `apiVersion: v1
kind: ConfigMap
metadata: {name: live}
data: {key: first}
---
apiVersion: v1
kind: Pod
metadata: {name: live, labels: {tier: one}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: IMAGE
    command: [sh, -c, "while true; do echo cm=$(cat /cm/key) $(cat /info/labels | tr '\\n' ' '); sleep 1; done"]
    volumeMounts: [{name: cm, mountPath: /cm}, {name: info, mountPath: /info}]
  volumes:
  - {name: cm, configMap: {name: live}}
  - {name: info, downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}}
`

// TestRunningPodSeesConfigMapAndLabelChanges: a configMap change reaches
// a running pod's file within a minute, a label change its downwardAPI
// file within seconds, both through the atomic writer's ..data swap.
func TestRunningPodSeesConfigMapAndLabelChanges(t *testing.T) {
	l := startAgentLab(t)
	l.k.ok(strings.ReplaceAll(liveVolumesPod, "IMAGE", framework.TestImage()), "apply", "-f", "-")
	l.logsContain(t, "live", "c", `cm=first tier="one"`)
	start := time.Now()
	l.k.ok("", "patch", "configmap", "live", "--type=merge", "-p", `{"data":{"key":"second"}}`)
	l.logsWithin(t, 60*time.Second, "live", "c", "cm=second")
	t.Logf("the configMap change reached the pod in %v", time.Since(start).Round(time.Second))
	start = time.Now()
	l.k.ok("", "label", "pod", "live", "tier=two", "--overwrite")
	l.logsWithin(t, 15*time.Second, "live", "c", `tier="two"`)
	t.Logf("the label change reached the pod in %v", time.Since(start).Round(time.Second))
}

// logsWithin waits until the container's logs hold want, failing after
// timeout.
func (l *agentLab) logsWithin(t *testing.T, timeout time.Duration, pod, container, want string) {
	t.Helper()
	framework.Eventually(t, timeout, 500*time.Millisecond, pod+"/"+container+" logs "+want, func() error {
		logs, _, _ := l.k.run("", "logs", pod, "-c", container, "--tail=3")
		if !strings.Contains(logs, want) {
			return fmt.Errorf("logs: %q", logs)
		}
		return nil
	})
}

// cyclePod uses every kind of volume that mounts something: a claim, a
// configMap and a secret (a tmpfs), a memory emptyDir, a subPath.
func cyclePod(name, claim string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %[1]s}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: %[2]s
    command: [sh, -c, "echo %[1]s > /data/last && sleep 3600"]
    volumeMounts:
    - {name: data, mountPath: /data}
    - {name: cm, mountPath: /cm}
    - {name: secret, mountPath: /secret}
    - {name: ram, mountPath: /ram}
    - {name: cm, mountPath: /key, subPath: key}
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: %[3]s}}
  - {name: cm, configMap: {name: cycle}}
  - {name: secret, secret: {secretName: cycle}}
  - {name: ram, emptyDir: {medium: Memory, sizeLimit: 1Mi}}
`, name, framework.TestImage(), claim)
}

// TestVolumeCyclesLeaveNothing: 50 pods with volumes, five at a time on
// five claims, are created and deleted; nothing is left: no loop device,
// no mount, no staging directory, no pod directory.
func TestVolumeCyclesLeaveNothing(t *testing.T) {
	l := startAgentLab(t)
	l.k.ok("", "create", "configmap", "cycle", "--from-literal=key=v")
	l.k.ok("", "create", "secret", "generic", "cycle", "--from-literal=key=s")
	const parallel, rounds = 5, 10
	for i := range parallel {
		staticVolume{name: fmt.Sprintf("cycle-%d", i), size: 16 << 20, fsType: "ext4"}.create(t, l)
	}
	for r := range rounds {
		for i := range parallel {
			l.k.ok(cyclePod(fmt.Sprintf("p%d-%d", r, i), fmt.Sprintf("cycle-%d", i)), "apply", "-f", "-")
		}
		for i := range parallel {
			l.waitFor(t, 90*time.Second, fmt.Sprintf("pod/p%d-%d", r, i), "{.status.phase}", "Running")
		}
		for i := range parallel {
			l.k.ok("", "delete", "pod", fmt.Sprintf("p%d-%d", r, i), "--wait=false")
		}
		for i := range parallel {
			l.waitGone(t, fmt.Sprintf("p%d-%d", r, i))
		}
	}
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "nothing left", func() error {
		if err := l.volumesLeft(); err != nil {
			return err
		}
		if pods, _ := os.ReadDir(filepath.Join(l.dirs.Root, "pods")); len(pods) != 0 {
			return fmt.Errorf("%d pod directories left", len(pods))
		}
		return l.leftovers()
	})
	if n := formats(t, l.srv.LogPath); n != parallel {
		t.Fatalf("%d formats for %d volumes", n, parallel)
	}
}

// waitGone waits until the pod is gone from the API.
func (l *agentLab) waitGone(t *testing.T, name string) {
	t.Helper()
	framework.Eventually(t, 60*time.Second, 200*time.Millisecond, "pod "+name+" gone", func() error {
		if _, errOut, err := l.k.run("", "get", "pod", name); err == nil || !strings.Contains(errOut, "NotFound") {
			return fmt.Errorf("still there")
		}
		return nil
	})
}
