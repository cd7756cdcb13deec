package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nodeagent/nodeagent/bench/internal/proc"
	"github.com/nodeagent/nodeagent/bench/internal/stats"
	"github.com/nodeagent/nodeagent/internal/syncbuf"
	"github.com/nodeagent/nodeagent/lab"
)

// echoPort is the test server's TCP echo port in the bench's pods.
const echoPort = 9000

// streamResults are the streaming phase's figures.
type streamResults struct {
	exec, get stats.Summary // kubectl exec -- true; kubectl get pod (no exec), the same kubectl
	forward   []float64     // MB/s each way through kubectl port-forward, one per transfer
	direct    []float64     // MB/s each way to the pod's IP from the lab node
}

// kubectl runs kubectl inside the lab node with the admin kubeconfig.
type kubectl struct {
	bin, kubeconfig string
	node            *lab.Node
}

func (b *benchNode) kubectl(bin string) *kubectl {
	return &kubectl{bin: bin, kubeconfig: filepath.Join(b.serverDir(), "admin.kubeconfig"), node: b.node}
}

func (k *kubectl) command(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, k.bin, append([]string{"--kubeconfig", k.kubeconfig, "-n", benchNamespace}, args...)...)
}

// timed runs kubectl ARGS n times, one after the other, and summarizes
// how long each run took, from the fork to the exit.
func (k *kubectl) timed(ctx context.Context, n int, args ...string) (stats.Summary, error) {
	var samples []time.Duration
	began := time.Now()
	for i := 0; i < n; i++ {
		cmd := k.command(ctx, args...)
		start := time.Now()
		out, err := runIn(k.node, cmd)
		if err != nil {
			return stats.Summary{}, fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, out)
		}
		samples = append(samples, time.Since(start))
	}
	return stats.Summarize(samples, time.Since(began)), nil
}

// measureStreams times `kubectl exec POD -- true` (and, for comparison,
// `kubectl get pod POD`, which starts the same kubectl and makes the same
// TLS connection but opens no stream), then moves size bytes through
// `kubectl port-forward` to the pod's echo server, and the same straight
// to the pod's IP, runs times each.
func measureStreams(ctx context.Context, cfg config, b *benchNode, pod, podIP string, progress io.Writer) (streamResults, error) {
	var r streamResults
	k := b.kubectl(cfg.Kubectl)
	fmt.Fprintf(progress, "==> %d x kubectl exec %s -- true, %d x kubectl get pod %s\n", cfg.Execs, pod, cfg.Execs, pod)
	var err error
	if r.get, err = k.timed(ctx, cfg.Execs, "get", "pod", pod, "-o", "name"); err != nil {
		return r, err
	}
	if r.exec, err = k.timed(ctx, cfg.Execs, "exec", pod, "--", "true"); err != nil {
		return r, err
	}
	fmt.Fprintf(progress, "==> %d x %d MB through kubectl port-forward, and to the pod's IP\n", cfg.Transfers, cfg.TransferMB)
	size := int64(cfg.TransferMB) * 1e6
	for i := 0; i < cfg.Transfers; i++ {
		mbs, err := k.forwardOnce(ctx, pod, size)
		if err != nil {
			return r, err
		}
		r.forward = append(r.forward, mbs)
		if mbs, err = echoRate(ctx, b.node, net.JoinHostPort(podIP, strconv.Itoa(echoPort)), size); err != nil {
			return r, err
		}
		r.direct = append(r.direct, mbs)
	}
	return r, nil
}

// forwardOnce starts `kubectl port-forward` to the pod's echo port on a
// random local port of the lab node, moves size bytes through it and stops
// it.
func (k *kubectl) forwardOnce(ctx context.Context, pod string, size int64) (float64, error) {
	port := 20000 + rand.IntN(20000)
	out := &syncbuf.Buffer{}
	cmd := k.command(ctx, "port-forward", "pod/"+pod, fmt.Sprintf("%d:%d", port, echoPort))
	cmd.Stdout, cmd.Stderr = out, out
	if err := k.node.Start(cmd); err != nil {
		return 0, fmt.Errorf("kubectl port-forward: %w", err)
	}
	p := proc.Watch(cmd)
	defer p.Stop(5 * time.Second)
	ready := fmt.Sprintf("Forwarding from 127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), ready) {
		select {
		case <-p.Exited():
			return 0, fmt.Errorf("kubectl port-forward exited: %s", out.String())
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("kubectl port-forward not forwarding after 30 s: %s", out.String())
		}
	}
	return echoRate(ctx, k.node, fmt.Sprintf("127.0.0.1:%d", port), size)
}

// echoRate sends size pseudo-random bytes to an echo server at addr from
// inside the lab node while reading them back, checks that they came back
// intact, and returns MB/s each way (1 MB = 10^6 bytes).
func echoRate(ctx context.Context, node *lab.Node, addr string, size int64) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	conn, err := node.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, fmt.Errorf("connect %s: %w", addr, err)
	}
	defer conn.Close()
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	start := time.Now()
	sent := make(chan []byte, 1)
	go func() {
		h := sha256.New()
		src := io.TeeReader(io.LimitReader(rand.NewChaCha8([32]byte{7}), size), h)
		io.Copy(conn, src)
		conn.(interface{ CloseWrite() error }).CloseWrite()
		sent <- h.Sum(nil)
	}()
	h := sha256.New()
	n, err := io.Copy(h, bufio.NewReaderSize(conn, 1<<20))
	took := time.Since(start)
	if err != nil || n != size {
		return 0, fmt.Errorf("%s echoed %d of %d bytes: %v", addr, n, size, err)
	}
	if !bytes.Equal(<-sent, h.Sum(nil)) {
		return 0, fmt.Errorf("%s echoed %d bytes that differ from those sent", addr, n)
	}
	return float64(size) / 1e6 / took.Seconds(), nil
}

func reportStreams(w io.Writer, cfg config, r streamResults) {
	line(w, "kubectl exec -- true", r.exec, "fork -> exit of kubectl exec in the lab node: GET pod, the exec stream through the API server to the agent, exit code back")
	line(w, "  kubectl get pod", r.get, "the same kubectl, kubeconfig and TLS connection, no stream: what is not the exec's")
	fmt.Fprintf(w, "%-26s %s MB/s each way  (%d MB echoed, sent and read back at once, through kubectl port-forward: kubectl -> API server -> agent -> pod; %d runs)\n",
		"port-forward", rates(r.forward), cfg.TransferMB, cfg.Transfers)
	fmt.Fprintf(w, "%-26s %s MB/s each way  (the same transfers straight to the pod's IP from the lab node)\n", "  to the pod's IP", rates(r.direct))
}

// rates formats MB/s figures: the median, and every run when there are
// several.
func rates(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.0f", x)
	}
	if len(v) == 1 {
		return s[0]
	}
	return fmt.Sprintf("%.0f (runs: %s)", median(v), strings.Join(s, ", "))
}

func median(v []float64) float64 {
	sorted := slices.Clone(v)
	slices.Sort(sorted)
	return sorted[len(sorted)/2]
}
