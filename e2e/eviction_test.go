//go:build linux && e2e

package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// memoryPods: a BestEffort pod that idles and a Guaranteed one that fills
// a 1 GiB tmpfs (emptyDir medium Memory, charged to its own cgroup and
// bounded by its 1200Mi limit) and then holds it.
const memoryPods = `apiVersion: v1
kind: Pod
metadata: {name: besteffort}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: idle
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    args: [pause]
---
apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: hog
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    command: [sh, -c, "sleep 2; dd if=/dev/zero of=/hog/fill bs=1M count=1024 && exec testserver pause"]
    resources:
      requests: {cpu: 100m, memory: 1200Mi}
      limits: {cpu: 100m, memory: 1200Mi}
    volumeMounts: [{name: hog, mountPath: /hog}]
  volumes: [{name: hog, emptyDir: {medium: Memory, sizeLimit: 1100Mi}}]
`

// TestMemoryPressureEvictsBestEffortFirst: with memory.available's hard
// threshold raised to 300 MiB below what the node has now, a Guaranteed
// pod taking 1 GiB crosses it; the node reports MemoryPressure (kubectl
// describe node) and the agent evicts the BestEffort pod, which uses more
// than its (no) request, before the Guaranteed one, which stays within
// its own: Failed, reason Evicted, kubelet's message.
func TestMemoryPressureEvictsBestEffortFirst(t *testing.T) {
	avail := nodeMemoryAvailable(t)
	threshold := avail - 300<<20
	// The hog's 1200Mi request must fit the node's allocatable memory,
	// its capacity less the threshold: that is the memory in use now plus
	// 300 MiB, more than a small VM uses (make vm-test's, 2.5 GiB).
	if allocatable := keyedInt(t, "/proc/meminfo", "MemTotal:")*1024 - threshold; allocatable < 1300<<20 {
		t.Skipf("the node's allocatable memory under this threshold would be %d MiB, too little for the hog's 1200Mi request", allocatable>>20)
	}
	l := startAgentLab(t, fmt.Sprintf("--eviction-hard=memory.available<%d", threshold), "--eviction-pressure-transition-period=30s")
	l.k.ok(memoryPods, "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/hog", "{.status.phase}", "Running")
	l.waitFor(t, 90*time.Second, "pod/besteffort", "{.status.reason}", "Evicted")
	if phase := l.jsonpath("pod/hog", "{.status.phase}"); phase != "Running" {
		t.Errorf("hog is %s when besteffort was evicted; want Running (evicted after)", phase)
	}
	msg := l.jsonpath("pod/besteffort", "{.status.message}")
	if !strings.HasPrefix(msg, "The node was low on resource: memory. Threshold quantity: ") ||
		!strings.Contains(msg, "Container idle was using ") {
		t.Errorf("eviction message %q", msg)
	}
	if phase := l.jsonpath("pod/besteffort", "{.status.phase}"); phase != "Failed" {
		t.Errorf("evicted pod's phase %q, want Failed", phase)
	}
	// kubectl get shows the container's end (Completed or Error), as
	// with kubelet; describe shows the eviction.
	if d := squash(l.k.ok("", "describe", "pod", "besteffort")); !strings.Contains(d, "Status: Failed Reason: Evicted Message: The node was low on resource: memory.") {
		t.Errorf("kubectl describe pod shows no eviction:\n%s", d)
	}
	describe := squash(l.k.ok("", "describe", "node", nodeName))
	if !strings.Contains(describe, "MemoryPressure True") || !strings.Contains(describe, "KubeletHasInsufficientMemory") {
		t.Errorf("kubectl describe node shows no MemoryPressure:\n%s", describe)
	}
	// The hog still holds its gigabyte: it goes next.
	l.waitFor(t, 60*time.Second, "pod/hog", "{.status.reason}", "Evicted")
	if log, _ := os.ReadFile(l.srv.LogPath); !strings.Contains(string(log), "cgroups: ") {
		t.Error("the agent did not say which cgroup version and driver it runs")
	}
}

// nodeMemoryAvailable is memory.available as the agent measures it
// (kubelet's): the node's memory less the root cgroup's working set. On
// cgroup v2 (make vm-test) the root's working set is the machine's,
// MemTotal - MemFree - Inactive(file), so what is available is MemFree +
// Inactive(file).
func nodeMemoryAvailable(t *testing.T) int64 {
	t.Helper()
	root := "/sys/fs/cgroup/memory"
	if _, err := os.Stat(filepath.Join(root, "memory.usage_in_bytes")); err != nil {
		if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err != nil {
			t.Skip("needs cgroup v1's memory hierarchy or cgroup v2")
		}
		return (keyedInt(t, "/proc/meminfo", "MemFree:") + keyedInt(t, "/proc/meminfo", "Inactive(file):")) * 1024
	}
	usage := readInt(t, filepath.Join(root, "memory.usage_in_bytes"))
	inactive := keyedInt(t, filepath.Join(root, "memory.stat"), "total_inactive_file")
	total := keyedInt(t, "/proc/meminfo", "MemTotal:") * 1024
	return total - (usage - inactive)
}

func readInt(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func keyedInt(t *testing.T, path, key string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == key {
			n, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("%s: no %s", path, key)
	return 0
}

// localLimitPods: one pod writes 20 MiB into an emptyDir whose sizeLimit
// is 10 MiB; another allocates 64 MiB under a 32 MiB memory limit.
const localLimitPods = `apiVersion: v1
kind: Pod
metadata: {name: scratch}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: writer
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    command: [sh, -c, "dd if=/dev/zero of=/scratch/fill bs=1M count=20 && exec testserver pause"]
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  volumes: [{name: scratch, emptyDir: {sizeLimit: 10Mi}}]
---
apiVersion: v1
kind: Pod
metadata: {name: oom}
spec:
  restartPolicy: Never
  containers:
  - name: eater
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    command: [sh, -c, 'x=$(head -c 67108864 /dev/zero | tr "\\0" a); echo survived']
    resources:
      limits: {memory: 32Mi}
`

// TestLocalLimits: a pod over its emptyDir's sizeLimit is evicted with
// kubelet's message; a container over its memory limit is OOMKilled, as
// kubectl shows.
func TestLocalLimits(t *testing.T) {
	l := startAgentLab(t)
	l.k.ok(localLimitPods, "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/scratch", "{.status.reason}", "Evicted")
	want := `Usage of EmptyDir volume "scratch" exceeds the limit "10Mi". `
	if msg := l.jsonpath("pod/scratch", "{.status.message}"); msg != want {
		t.Errorf("message %q, want %q", msg, want)
	}
	l.waitFor(t, 90*time.Second, "pod/oom", "{.status.containerStatuses[0].state.terminated.reason}", "OOMKilled")
	if line := squash(l.k.ok("", "get", "pod", "oom", "--no-headers")); !strings.Contains(line, " OOMKilled ") {
		t.Errorf("kubectl get pod: %q, want OOMKilled", line)
	}
	framework.Eventually(t, 10*time.Second, 200*time.Millisecond, "no DiskPressure for a pod's own limit", func() error {
		if c := l.jsonpath("node/"+nodeName, "{.status.conditions[?(@.type=='DiskPressure')].status}"); c != "False" {
			return fmt.Errorf("DiskPressure %q", c)
		}
		return nil
	})
}

// diskPods: one pod writes 64 MiB into an emptyDir (no sizeLimit), the
// other idles.
const diskPods = `apiVersion: v1
kind: Pod
metadata: {name: filler}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: writer
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    command: [sh, -c, "dd if=/dev/zero of=/data/fill bs=1M count=64 && exec testserver pause"]
    volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, emptyDir: {}}]
---
apiVersion: v1
kind: Pod
metadata: {name: quiet}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: idle
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    args: [pause]
`

// TestDiskPressureEvictsTheLargestUser: the agent's root directory on a
// 128 MiB loop-mounted ext4 with nodefs.available<60%: a pod filling 64
// MiB of it crosses the threshold for real; the node reports DiskPressure
// and that pod, the largest user of the disk, is evicted first.
func TestDiskPressureEvictsTheLargestUser(t *testing.T) {
	framework.RequireBinaries(t, "mkfs.ext4", "mount", "umount")
	root := smallFilesystem(t, 128<<20)
	l := startAgentLab(t, "--root-dir", root, "--eviction-hard=nodefs.available<60%", "--eviction-pressure-transition-period=30s")
	l.k.ok(diskPods, "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/filler", "{.status.reason}", "Evicted")
	msg := l.jsonpath("pod/filler", "{.status.message}")
	if !strings.HasPrefix(msg, "The node was low on resource: ephemeral-storage. Threshold quantity: ") {
		t.Errorf("eviction message %q", msg)
	}
	if r := l.jsonpath("pod/quiet", "{.status.reason}"); r == "Evicted" {
		t.Error("the quiet pod was evicted before the one filling the disk")
	}
	if c := l.jsonpath("node/"+nodeName, "{.status.conditions[?(@.type=='DiskPressure')].status}"); c != "True" {
		t.Errorf("DiskPressure %q, want True", c)
	}
}

// smallFilesystem mounts a fresh ext4 of size bytes (a sparse file on a
// loop device) and returns its mount point; it is unmounted, with what
// was mounted below it, when the test ends.
func smallFilesystem(t *testing.T, size int64) string {
	t.Helper()
	img, dir := filepath.Join(t.TempDir(), "disk.img"), t.TempDir()
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(f.Truncate(size), f.Close()); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", img).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v: %s", err, out)
	}
	if out, err := exec.Command("mount", "-o", "loop", img, dir).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v: %s", err, out)
	}
	t.Cleanup(func() {
		for _, m := range framework.MountsUnder(dir) { // the loop mount last
			if err := unix.Unmount(m, unix.MNT_DETACH); err != nil {
				t.Errorf("unmount %s: %v", m, err)
			}
		}
	})
	return dir
}
