package framework

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"

	"github.com/nodeagent/nodeagent/cri"
)

// supervisorPIDFile is where hack/lib.sh's start_service keeps the pid of
// the supervisor that restarts nodeagent's containerd when it exits.
const supervisorPIDFile = "/run/nodeagent/dev/nodeagent-containerd.pid"

// ContainerdPID is the pid of nodeagent's containerd daemon: the systemd
// unit's main process, or the child of hack/'s supervisor.
func ContainerdPID() (int, error) {
	if out, err := exec.Command("systemctl", "show", "-p", "MainPID", "--value", "nodeagent-containerd").Output(); err == nil {
		if pid, _ := strconv.Atoi(strings.TrimSpace(string(out))); pid > 0 {
			return pid, nil
		}
	}
	data, err := os.ReadFile(supervisorPIDFile)
	if err != nil {
		return 0, fmt.Errorf("containerd is neither a systemd unit nor supervised: %w", err)
	}
	sup := strings.TrimSpace(string(data))
	children, err := os.ReadFile("/proc/" + sup + "/task/" + sup + "/children")
	if err != nil {
		return 0, fmt.Errorf("children of containerd's supervisor %s: %w", sup, err)
	}
	f := strings.Fields(string(children))
	if len(f) != 1 {
		return 0, fmt.Errorf("containerd's supervisor %s has children %q, want one", sup, f)
	}
	return strconv.Atoi(f[0])
}

// RestartContainerd stops nodeagent's containerd with SIGTERM (which leaves
// the shims and so the containers running), lets its service manager start
// it again, and waits until a new daemon answers on the socket.
func RestartContainerd(t testing.TB) {
	t.Helper()
	old, err := ContainerdPID()
	if err != nil {
		Missing(t, "cannot find containerd to restart: %v", err)
	}
	if err := syscall.Kill(old, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM containerd %d: %v", old, err)
	}
	Eventually(t, 60*time.Second, 100*time.Millisecond, "containerd answers again", func() error {
		pid, err := ContainerdPID()
		if err != nil || pid == old {
			return fmt.Errorf("containerd pid %d (was %d): %v", pid, old, err)
		}
		return containerdAnswers()
	})
}

func containerdAnswers() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := containerd.New(ContainerdAddress(), containerd.WithTimeout(2*time.Second))
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Version(ctx)
	return err
}

// AppContainerPids lists "pod/container=pid" for the running tasks of the
// app and init containers (not sandboxes) in containerd namespace ns.
func AppContainerPids(t testing.TB, ns string) map[string]uint32 {
	t.Helper()
	c, err := containerd.New(ContainerdAddress())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := namespaces.WithNamespace(context.Background(), ns)
	cs, err := c.Containers(ctx, "labels.\""+cri.LabelKind+"\"==container")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint32{}
	for _, ct := range cs {
		labels, err := ct.Labels(ctx)
		if err != nil {
			continue
		}
		task, err := ct.Task(ctx, nil)
		if err != nil {
			continue
		}
		if st, err := task.Status(ctx); err == nil && st.Status == containerd.Running {
			out[labels[cri.LabelPodName]+"/"+labels[cri.LabelContainerName]] = task.Pid()
		}
	}
	return out
}
