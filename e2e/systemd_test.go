//go:build linux && e2e

package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// notifySocket is a service manager's NOTIFY_SOCKET: it hears the states
// the daemon sends.
type notifySocket struct {
	path string
	conn *net.UnixConn
}

func listenNotify(t *testing.T) *notifySocket {
	t.Helper()
	p := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: p, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &notifySocket{path: p, conn: c}
}

// waitFor reads states until one starts with prefix, within timeout, and
// returns it and the states before it.
func (n *notifySocket) waitFor(t *testing.T, prefix string, timeout time.Duration) (string, []string) {
	t.Helper()
	n.conn.SetReadDeadline(time.Now().Add(timeout))
	var before []string
	buf := make([]byte, 4096)
	for {
		k, err := n.conn.Read(buf)
		if err != nil {
			t.Fatalf("no %q within %v (before: %q): %v", prefix, timeout, before, err)
		}
		s := string(buf[:k])
		if strings.HasPrefix(s, prefix) {
			return s, before
		}
		before = append(before, s)
	}
}

// configFromArgs writes a config file whose server section holds these
// "--flag value" pairs.
func configFromArgs(t *testing.T, args []string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: nodeagent.io/v1alpha1\nkind: NodeAgentConfiguration\nserver:\n")
	for i := 0; i+1 < len(args); i += 2 {
		fmt.Fprintf(&b, "  %s: %q\n", strings.TrimPrefix(args[i], "--"), args[i+1])
	}
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSystemdNotifyAndConfigFile runs `nodeagent server --config FILE` as
// systemd runs a Type=notify service with WatchdogSec: the agent's flags
// come only from the file, READY=1 comes once the node is Ready and the
// proxy has synced (not at the API's start), WATCHDOG=1 follows at half the
// interval, and SIGTERM says STOPPING=1.
func TestSystemdNotifyAndConfigFile(t *testing.T) {
	requireAgentDeps(t)
	node := framework.NewLab(t)
	dirs := framework.NewNodeDirs(t, node, nodeName)
	sock := listenNotify(t)
	cfg := configFromArgs(t, dirs.AgentArgs(nodeName))
	srv := framework.StartAPIServerEnv(t, node, []string{"NOTIFY_SOCKET=" + sock.path, "WATCHDOG_USEC=2000000"}, "--config", cfg)
	k := &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}

	ready, before := sock.waitFor(t, "READY=1", 90*time.Second)
	if len(before) != 0 {
		t.Errorf("states before READY=1: %q", before)
	}
	if !strings.Contains(ready, "STATUS=ready: api, node, proxy") {
		t.Errorf("READY=1 without the parts it waited for: %q", ready)
	}
	// The node (named only in the config file) was Ready when READY=1 came.
	out, _, err := k.run("", "get", "node", nodeName, "-o", "jsonpath={.status.conditions[?(@.type=='Ready')].status}")
	if err != nil || out != "True" {
		t.Fatalf("at READY=1 node %s Ready=%q (%v)", nodeName, out, err)
	}
	sock.waitFor(t, "WATCHDOG=1", 10*time.Second)
	srv.Stop()
	sock.waitFor(t, "STOPPING=1", 10*time.Second)
}
