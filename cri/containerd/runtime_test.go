package containerd_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/internal/nsutil"
)

// TestContainerJoinsSandbox checks what the conformance suite cannot see
// through the interface: a container shares its sandbox's network, IPC and
// UTS namespaces, has its own PID namespace, and runs in a cgroup under the
// pod's with the limits asked for.
func TestContainerJoinsSandbox(t *testing.T) {
	cfg, _ := isolate(t, requireContainerd(t), "ns")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rt := newRuntime(t, cfg)
	if _, err := rt.PullImage(ctx, testImage, nil); err != nil {
		t.Fatal(err)
	}
	netns := newNetNS(t)
	parent := cfg.DefaultCgroupParent + "/pod-1"
	sbID, err := rt.RunPodSandbox(ctx, cri.SandboxConfig{Name: "ns", Hostname: "web-0", NetNSPath: netns, CgroupParent: parent})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.RemovePodSandbox(context.Background(), sbID) })
	id, err := rt.CreateContainer(ctx, sbID, cri.ContainerConfig{Name: "app", Image: testImage, Args: []string{"pause"},
		Env: []string{"GREETING=hello"}, Resources: cri.Resources{CPUShares: 512, MemoryLimit: 64 << 20}})
	if err == nil {
		err = rt.StartContainer(ctx, id)
	}
	if err != nil {
		t.Fatal(err)
	}
	sandboxes, err := rt.ListPodSandboxes(ctx, nil)
	if err != nil || len(sandboxes) != 1 {
		t.Fatalf("ListPodSandboxes = %v, %v", sandboxes, err)
	}
	exec := func(cmd string) string {
		res, err := rt.ExecSync(ctx, id, []string{"/bin/sh", "-c", cmd}, 10*time.Second)
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("exec %q: %+v, %v", cmd, res, err)
		}
		return strings.TrimSpace(string(res.Stdout))
	}
	if got := exec("hostname"); got != "web-0" {
		t.Errorf("hostname %q, want web-0", got)
	}
	if got := exec("echo $GREETING"); got != "hello" {
		t.Errorf("GREETING=%q, want hello", got)
	}
	ino, err := nsutil.InodeOf(netns)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := exec("readlink /proc/self/ns/net"), fmt.Sprintf("net:[%d]", ino.Ino); got != want {
		t.Errorf("container netns %s, want the sandbox's %s", got, want)
	}
	for _, ns := range []string{"ipc", "uts"} {
		want, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", sandboxes[0].Pid, ns))
		if got := exec("readlink /proc/self/ns/" + ns); got != want {
			t.Errorf("container %s namespace %s, want the sandbox's %s", ns, got, want)
		}
	}
	if exec("readlink /proc/self/ns/pid") == mustReadlink(t, fmt.Sprintf("/proc/%d/ns/pid", sandboxes[0].Pid)) {
		t.Errorf("container shares the sandbox's PID namespace")
	}
	cgroup := filepath.Join("/sys/fs/cgroup/cpu", parent, id)
	if data, err := os.ReadFile(filepath.Join(cgroup, "cpu.shares")); err != nil || strings.TrimSpace(string(data)) != "512" {
		t.Errorf("%s/cpu.shares = %q, %v; want 512", cgroup, data, err)
	}
	mem := filepath.Join("/sys/fs/cgroup/memory", parent, id, "memory.limit_in_bytes")
	if data, err := os.ReadFile(mem); err != nil || strings.TrimSpace(string(data)) != fmt.Sprint(64<<20) {
		t.Errorf("%s = %q, %v; want %d", mem, data, err, 64<<20)
	}
	if _, err := os.Stat(filepath.Join("/sys/fs/cgroup/memory", parent, sbID)); err != nil {
		t.Errorf("sandbox cgroup: %v", err)
	}
}

func mustReadlink(t *testing.T, path string) string {
	s, err := os.Readlink(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestExecSyncTimeout: a command that outlives its timeout is killed and
// the error says the deadline passed.
func TestExecSyncTimeout(t *testing.T) {
	cfg, _ := isolate(t, requireContainerd(t), "exec")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rt := newRuntime(t, cfg)
	if _, err := rt.PullImage(ctx, testImage, nil); err != nil {
		t.Fatal(err)
	}
	id := startPause(ctx, t, rt, cri.SandboxConfig{Name: "exec", NetNSPath: newNetNS(t)})
	start := time.Now()
	res, err := rt.ExecSync(ctx, id, []string{"/bin/sh", "-c", "echo started; sleep 30"}, 500*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ExecSync past its timeout: %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("ExecSync took %v with a 500ms timeout", d)
	}
	if string(res.Stdout) != "started\n" {
		t.Errorf("stdout %q, want what was written before the timeout", res.Stdout)
	}
}

// TestExecSyncWithBackgroundChild: a command that leaves a child holding
// its stdout returns (the output drain is bounded) with what it printed.
func TestExecSyncWithBackgroundChild(t *testing.T) {
	cfg, _ := isolate(t, requireContainerd(t), "ns")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rt := newRuntime(t, cfg)
	if _, err := rt.PullImage(ctx, testImage, nil); err != nil {
		t.Fatal(err)
	}
	id := startPause(ctx, t, rt, cri.SandboxConfig{Name: "ns", NetNSPath: newNetNS(t), CgroupParent: cfg.DefaultCgroupParent + "/pod-bg"})
	start := time.Now()
	res, err := rt.ExecSync(ctx, id, []string{"/bin/sh", "-c", "echo before; sleep 30 & echo after"}, 40*time.Second)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("exec: %+v, %v", res, err)
	}
	if d := time.Since(start); d > 25*time.Second {
		t.Fatalf("ExecSync waited %v, for the background child: the output drain must be bounded", d)
	}
	if got := strings.Fields(string(res.Stdout)); len(got) != 2 || got[0] != "before" || got[1] != "after" {
		t.Fatalf("stdout %q, want before and after", res.Stdout)
	}
}

// startPause runs a sandbox and a test-image container in it that pauses,
// removed when the test ends; it returns the container's ID.
func startPause(ctx context.Context, t *testing.T, rt cri.Runtime, sb cri.SandboxConfig) string {
	t.Helper()
	sbID, err := rt.RunPodSandbox(ctx, sb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.RemovePodSandbox(context.Background(), sbID) })
	id, err := rt.CreateContainer(ctx, sbID, cri.ContainerConfig{Name: "app", Image: testImage, Args: []string{"pause"}})
	if err == nil {
		err = rt.StartContainer(ctx, id)
	}
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestContainersShareTheSandboxShim: a sandbox and its container are
// served by one runc shim process (grouped by the sandbox ID, as the CRI
// plugin groups them), not one each; the shim is gone once both are.
func TestContainersShareTheSandboxShim(t *testing.T) {
	cfg, _ := isolate(t, requireContainerd(t), "shim")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rt := newRuntime(t, cfg)
	if _, err := rt.PullImage(ctx, testImage, nil); err != nil {
		t.Fatal(err)
	}
	id := startPause(ctx, t, rt, cri.SandboxConfig{Name: "shim", NetNSPath: newNetNS(t)})
	c, err := rt.ContainerStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got := shimsFor(t, c.SandboxID); got != 1 {
		t.Errorf("%d shims serve the sandbox, want 1", got)
	}
	if got := shimsFor(t, id); got != 0 {
		t.Errorf("the container has %d shims of its own, want none", got)
	}
	if err := rt.RemovePodSandbox(ctx, c.SandboxID); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); shimsFor(t, c.SandboxID) != 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the shim outlived the sandbox and its container")
		}
	}
}

// shimsFor counts the runc shim processes started for id (-id <id>).
func shimsFor(t *testing.T, id string) int {
	t.Helper()
	dirs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range dirs {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // gone meanwhile
		}
		args := strings.Split(string(data), "\x00")
		if len(args) == 0 || !strings.HasSuffix(args[0], "containerd-shim-runc-v2") {
			continue
		}
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "-id" && args[i+1] == id {
				n++
			}
		}
	}
	return n
}
