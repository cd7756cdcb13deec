//go:build linux && e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/crilogger"
	"github.com/nodeagent/nodeagent/e2e/framework"
	"github.com/nodeagent/nodeagent/internal/procmem"
)

// leanLimit bounds the resident memory of a pod's pause process and of a
// container's log process, their binary's pages included (RSS, not PSS or
// private memory, which depend on how many such processes share those
// pages): a helper's is about 2.2 MiB, the whole nodeagent binary's in
// its place about 47 MiB.
const leanLimit = 4 << 20

// tickerPod writes "tick N" every 0.2 s until /tmp/stop exists, then
// exits (and, restartPolicy Always, starts again in a fresh root).
func tickerPod(name string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: %s
    command: [sh, -c, 'i=0; while [ ! -f /tmp/stop ]; do echo "tick $i"; i=$((i+1)); sleep 0.2; done']
`, name, framework.TestImage())
}

// TestPerPodProcessesAreLean: each pod's sandbox process and each
// container's log process are the small helpers beside bin/nodeagent
// (bin/nodeagent-pause, bin/nodeagent-logger), each under leanLimit of
// memory; pods started by an agent without them (a nodeagent alone
// in a directory, the layout before the helpers, which falls back to
// `nodeagent pause` and `nodeagent cri-logger` with a warning) are adopted
// by an agent with them: same processes, no restart, logs still flowing,
// and the pod's next container gets the small logger.
func TestPerPodProcessesAreLean(t *testing.T) {
	requireAgentDeps(t)
	bin := framework.Binary(t)
	pauseHelper, loggerHelper := filepath.Join(filepath.Dir(bin), "nodeagent-pause"), filepath.Join(filepath.Dir(bin), "nodeagent-logger")
	for _, h := range []string{pauseHelper, loggerHelper} {
		if _, err := os.Stat(h); err != nil {
			framework.Missing(t, "%s not built (make build): %v", h, err)
		}
	}
	alone := copyAlone(t, bin)
	node := framework.NewLab(t)
	dirs := framework.NewNodeDirs(t, node, nodeName)
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	l := &agentLab{node: node, srv: srv, dirs: dirs, k: &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}}
	args := append(append([]string{"agent"}, agentCredentials(t, srv, nodeName)...), dirs.AgentArgs(nodeName)...)

	// The layout before the helpers: nodeagent alone runs every pod's
	// processes, and says what that costs.
	first := framework.StartProcessOf(t, node, alone, "agent-alone", args...)
	l.waitFor(t, 60*time.Second, "node/"+nodeName, "{.status.conditions[?(@.type=='Ready')].status}", "True")
	l.k.ok(tickerPod("old"), "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/old", "{.status.phase}", "Running")
	oldProcs := l.podProcs(t, "old")
	oldProcs.requireExe(t, alone, alone)
	pidsBefore := framework.ContainerPids(t, dirs.Namespace)

	// An agent with the helpers beside it takes over.
	first.Kill9()
	framework.StartProcess(t, node, "agent", args...)
	l.k.ok(tickerPod("new"), "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/new", "{.status.phase}", "Running")
	newProcs := l.podProcs(t, "new")
	newProcs.requireExe(t, pauseHelper, loggerHelper)
	newProcs.requireLean(t)
	l.logsWithin(t, 30*time.Second, "new", "c", "tick")

	// The old pod is adopted, its processes untouched, its log flowing.
	if got := l.jsonpath("pod/old", "{.status.containerStatuses[0].restartCount}"); got != "0" {
		t.Fatalf("pod old: restartCount %s after the agent changed, want 0", got)
	}
	pidsAfter := strings.Join(framework.ContainerPids(t, dirs.Namespace), " ")
	for _, p := range pidsBefore {
		if !strings.Contains(pidsAfter, p) {
			t.Fatalf("task %s of pod old is gone or has another pid: %s", p, pidsAfter)
		}
	}
	if again := l.podProcs(t, "old"); again.pause != oldProcs.pause || !maps.Equal(again.loggers, oldProcs.loggers) {
		t.Fatalf("pod old's processes changed: %+v, then %+v", oldProcs, again)
	}
	l.logsGrow(t, "old")

	// Its next container gets the small logger; both logs are read.
	l.k.ok("", "exec", "old", "--", "touch", "/tmp/stop")
	l.waitFor(t, 60*time.Second, "pod/old", "{.status.containerStatuses[0].restartCount}", "1")
	l.waitFor(t, 60*time.Second, "pod/old", "{.status.phase}", "Running")
	second := l.loggerOf(t, "old", "c/1.log")
	if !sameFile(second, loggerHelper) {
		t.Fatalf("pod old's second container: its log process runs %s, want %s", describeExe(second), loggerHelper)
	}
	l.logsWithin(t, 30*time.Second, "old", "c", "tick")
	if prev := l.k.ok("", "logs", "old", "--previous", "--tail=1"); !strings.HasPrefix(prev, "tick ") {
		t.Fatalf("kubectl logs old --previous: %q, want its first container's ticks", prev)
	}

	if log := first.Log(); !strings.Contains(log, "nodeagent-pause is not beside") || !strings.Contains(log, "nodeagent-logger is not beside") {
		t.Errorf("the agent without helpers did not warn about them; its log:\n%s", log)
	}
	for _, pod := range []string{"old", "new"} {
		l.deletePod(t, pod)
	}
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "nothing left", l.leftovers)
}

// copyAlone puts a copy of bin (a hard link when it can) alone in a
// directory: the layout before the helpers.
func copyAlone(t *testing.T, bin string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "nodeagent")
	if os.Link(bin, dst) == nil {
		return dst
	}
	in, err := os.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
	if err == nil {
		_, err = io.Copy(out, in)
		err = joinClose(err, out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func joinClose(err error, f *os.File) error {
	if cerr := f.Close(); err == nil {
		return cerr
	}
	return err
}

// podProcesses are a pod's sandbox process and its containers' log
// processes, by the log file each writes.
type podProcesses struct {
	pause   int
	loggers map[string]int
}

// podProcs finds a pod's pause process (its sandbox's task) and the log
// processes writing under its log directory.
func (l *agentLab) podProcs(t *testing.T, pod string) podProcesses {
	t.Helper()
	var p podProcesses
	framework.Eventually(t, 20*time.Second, 200*time.Millisecond, "pod "+pod+"'s processes", func() error {
		var err error
		if p.pause, err = sandboxPid(l.dirs.Namespace, pod); err != nil {
			return err
		}
		if p.loggers, err = loggersUnder(filepath.Join(l.dirs.Logs, "default_"+pod+"_")); err != nil || len(p.loggers) == 0 {
			return fmt.Errorf("no log process for pod %s: %v", pod, err)
		}
		return nil
	})
	return p
}

// sandboxPid is the pid of the running sandbox task of pod in containerd
// namespace ns.
func sandboxPid(ns, pod string) (int, error) {
	c, err := containerd.New(framework.ContainerdAddress())
	if err != nil {
		return 0, err
	}
	defer c.Close()
	ctx := namespaces.WithNamespace(context.Background(), ns)
	cs, err := c.Containers(ctx, fmt.Sprintf("labels.%q==sandbox,labels.%q==%s", cri.LabelKind, cri.LabelPodName, pod))
	if err != nil {
		return 0, err
	}
	for _, ct := range cs {
		task, err := ct.Task(ctx, nil)
		if err != nil {
			continue
		}
		if st, err := task.Status(ctx); err == nil && st.Status == containerd.Running {
			return int(task.Pid()), nil
		}
	}
	return 0, fmt.Errorf("no running sandbox of pod %s", pod)
}

// loggersUnder finds the log processes (`BIN cri-logger PATH`) whose log
// path starts with prefix, by path.
func loggersUnder(prefix string) (map[string]int, error) {
	pids, err := procmem.Pids()
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, pid := range pids {
		args, err := procmem.Cmdline(pid)
		if err != nil || len(args) != 3 || args[1] != "cri-logger" {
			continue
		}
		// The log's path, or a file URL with its rotation (crilogger.Arg).
		if path, _, err := crilogger.ParseArg(args[2]); err == nil && strings.HasPrefix(path, prefix) {
			out[path] = pid
		}
	}
	return out, nil
}

// loggerOf waits for the log process of the pod's log file ending in
// suffix (container/attempt.log).
func (l *agentLab) loggerOf(t *testing.T, pod, suffix string) int {
	t.Helper()
	var pid int
	framework.Eventually(t, 20*time.Second, 200*time.Millisecond, "the log process of "+pod+"'s "+suffix, func() error {
		all, err := loggersUnder(filepath.Join(l.dirs.Logs, "default_"+pod+"_"))
		for path, p := range all {
			if strings.HasSuffix(path, "/"+suffix) {
				pid = p
				return nil
			}
		}
		return fmt.Errorf("none among %v (%v)", all, err)
	})
	return pid
}

// sameFile says whether process pid runs the executable at path.
func sameFile(pid int, path string) bool {
	running, err1 := os.Stat("/proc/" + strconv.Itoa(pid) + "/exe")
	want, err2 := os.Stat(path)
	return err1 == nil && err2 == nil && os.SameFile(running, want)
}

func (p podProcesses) requireExe(t *testing.T, pause, logger string) {
	t.Helper()
	if !sameFile(p.pause, pause) {
		t.Fatalf("the pause process %d runs %s, want %s", p.pause, describeExe(p.pause), pause)
	}
	for _, pid := range p.loggers {
		if !sameFile(pid, logger) {
			t.Fatalf("the log process %d runs %s, want %s", pid, describeExe(pid), logger)
		}
	}
}

// describeExe names a process's executable and its size (a pause
// process's path is the one inside its sandbox, /pause).
func describeExe(pid int) string {
	exe, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if fi, err := os.Stat("/proc/" + strconv.Itoa(pid) + "/exe"); err == nil {
		return fmt.Sprintf("%s (%d bytes)", exe, fi.Size())
	}
	return exe
}

func (p podProcesses) requireLean(t *testing.T) {
	t.Helper()
	for _, pid := range append([]int{p.pause}, slices.Collect(maps.Values(p.loggers))...) {
		m, err := procmem.Read(pid)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("process %d: RSS %d KiB (anonymous %d KiB), PSS %d KiB, private %d KiB", pid, m.RSS>>10, m.Anon>>10, m.PSS>>10, m.Private>>10)
		if m.RSS > leanLimit {
			t.Errorf("process %d has %d KiB resident, want at most %d", pid, m.RSS>>10, leanLimit>>10)
		}
	}
}

// logsGrow waits until the pod's log has more lines than now.
func (l *agentLab) logsGrow(t *testing.T, pod string) {
	t.Helper()
	count := func() int { out, _, _ := l.k.run("", "logs", pod); return strings.Count(out, "\n") }
	before := count()
	framework.Eventually(t, 20*time.Second, 200*time.Millisecond, "pod "+pod+"'s log to grow", func() error {
		if n := count(); n <= before {
			return fmt.Errorf("%d lines, %d before", n, before)
		}
		return nil
	})
}
