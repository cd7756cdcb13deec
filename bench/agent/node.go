package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/nodeagent/nodeagent/bench/internal/proc"
	"github.com/nodeagent/nodeagent/lab"
)

// benchNode is a lab node running `nodeagent server --disable-agent` and a
// separate `nodeagent agent`, with every piece of the agent's state in one
// temporary directory or named after the run, so that teardown finds it.
type benchNode struct {
	// name is the node the agent registers: bench-node-<run>, so that two
	// runs on one machine (from two checkouts) never share the agent's
	// cgroups, /nodeagent/<node>, and one's --cleanup never meets the
	// other's pods.
	name   string
	bin    string
	dir    string // temporary directory: server data, agent state, logs
	ns     string // containerd namespace of the agent's pods
	node   *lab.Node
	server *nodeProc
	agent  *nodeProc
}

// nodeProc is a nodeagent process started inside the lab node.
type nodeProc struct {
	*proc.Process
	name string
	log  string
}

func randomSuffix() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// upNode creates the lab node and the temporary directory. The caller
// must call down, which removes them, whatever happens next.
func upNode(bin string) (*benchNode, error) {
	id := randomSuffix()
	dir, err := os.MkdirTemp("", "nodeagent-agent-bench-")
	if err != nil {
		return nil, err
	}
	n, err := lab.Up(lab.DefaultConfig("bench-" + id))
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("lab up: %w", err)
	}
	return &benchNode{name: "bench-node-" + id, bin: bin, dir: dir, ns: "bench-" + id, node: n}, nil
}

func (b *benchNode) serverDir() string { return filepath.Join(b.dir, "server") }

// agentArgs put the agent's state in b.dir and its pods in b.ns.
func (b *benchNode) agentArgs() []string {
	return []string{"--node-name", b.name, "--root-dir", filepath.Join(b.dir, "root"),
		"--pod-log-dir", filepath.Join(b.dir, "logs"), "--cni-conf-dir", filepath.Join(b.dir, "net.d"),
		"--cni-cache-dir", filepath.Join(b.dir, "cni-cache"), "--cni-ipam-dir", filepath.Join(b.dir, "ipam"),
		"--netns-prefix", b.node.Config().MemberName(""), "--containerd-namespace", b.ns,
		// Disk thresholds of 1 %: the bench node shares the host's disk,
		// whose fill is not what is measured.
		"--eviction-hard", "memory.available<100Mi,nodefs.available<1%,nodefs.inodesFree<1%,imagefs.available<1%,imagefs.inodesFree<1%"}
}

// start runs `nodeagent ARGS...` in the lab node, logging to dir/name.log.
func (b *benchNode) start(name string, args ...string) (*nodeProc, error) {
	p := &nodeProc{name: name, log: filepath.Join(b.dir, name+".log")}
	f, err := os.Create(p.log)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd := exec.Command(b.bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := b.node.Start(cmd); err != nil {
		return nil, fmt.Errorf("start nodeagent %s: %w", name, err)
	}
	p.Process = proc.Watch(cmd)
	return p, nil
}

// startServer runs the API server alone and returns the admin client
// config, which dials inside the lab node.
func (b *benchNode) startServer(ctx context.Context) (*rest.Config, error) {
	if err := os.MkdirAll(b.serverDir(), 0o700); err != nil {
		return nil, err
	}
	var err error
	b.server, err = b.start("server", "server", "--disable-agent", "--data-dir", b.serverDir(),
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1")
	if err != nil {
		return nil, err
	}
	var cfg *rest.Config
	err = b.poll(ctx, 60*time.Second, b.server, func() error {
		cfg, err = clientcmd.BuildConfigFromFlags("", filepath.Join(b.serverDir(), "admin.kubeconfig"))
		if err != nil {
			return err
		}
		cfg.Dial = b.node.DialContext
		cfg.QPS, cfg.Burst = 500, 1000
		return readyz(ctx, cfg)
	})
	return cfg, err
}

// startAgent mints the node's kubeconfig and a serving certificate from
// the cluster CA (the API server refuses an agent's self-signed one, and
// kubectl exec and port-forward go through it), and runs `nodeagent
// agent` with them and extra flags; the node's address is 127.0.0.1, the
// one the certificate names.
func (b *benchNode) startAgent(extra ...string) error {
	kc, serving := filepath.Join(b.dir, "node.kubeconfig"), filepath.Join(b.dir, "serving")
	mint := exec.Command(b.bin, "kubeconfig", "node", b.name, "--data-dir", b.serverDir(), "--out", kc,
		"--serving-cert-out", serving, "--node-ip", "127.0.0.1")
	if out, err := mint.CombinedOutput(); err != nil {
		return fmt.Errorf("mint the node's credentials: %w: %s", err, out)
	}
	args := append([]string{"agent", "--kubeconfig", kc, "--node-ip", "127.0.0.1",
		"--tls-cert-file", filepath.Join(serving, "kubelet.crt"), "--tls-private-key-file", filepath.Join(serving, "kubelet.key")},
		b.agentArgs()...)
	var err error
	b.agent, err = b.start("agent", append(args, extra...)...)
	return err
}

// poll calls cond every 100 ms until it succeeds, p exits, ctx ends or
// timeout passes.
func (b *benchNode) poll(ctx context.Context, timeout time.Duration, p *nodeProc, cond func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := cond()
		if err == nil {
			return nil
		}
		select {
		case <-p.Exited():
			return fmt.Errorf("nodeagent %s exited: %s", p.name, logTail(p.log))
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM and waits up to 20 s, then SIGKILL.
func (p *nodeProc) stop() {
	if p != nil {
		p.Stop(20 * time.Second)
	}
}

// down removes everything: the agent (then `agent --cleanup` for its pods,
// attachments, namespaces and cgroups), the server, the containerd
// namespace, the lab node and the temporary directory.
func (b *benchNode) down(progress io.Writer) error {
	b.agent.stop()
	cleanup := exec.Command(b.bin, append([]string{"agent", "--cleanup"}, b.agentArgs()...)...)
	var errs []error
	if out, err := runIn(b.node, cleanup); err != nil {
		errs = append(errs, fmt.Errorf("agent --cleanup: %w: %s", err, out))
	}
	b.server.stop()
	if err := removeContainerdNamespace(b.ns); err != nil {
		errs = append(errs, err)
	}
	removeCgroupTree("nodeagent/" + b.name)
	if err := b.node.Down(); err != nil {
		errs = append(errs, fmt.Errorf("lab down: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(progress, "logs kept in %s\n", b.dir)
		return err
	}
	return os.RemoveAll(b.dir)
}

func runIn(n *lab.Node, cmd *exec.Cmd) ([]byte, error) {
	var out limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := n.Run(cmd)
	return out.b, err
}

type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if len(l.b) < 8192 {
		l.b = append(l.b, p[:min(len(p), 8192-len(l.b))]...)
	}
	return len(p), nil
}

// logTail is the end of a log file, for error messages.
func logTail(path string) string {
	tail, _ := proc.LogTail(path)
	return "log " + path + " (end):\n" + tail
}
