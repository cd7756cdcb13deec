// Command agent benchmarks nodeagent's agent on real containerd, runc and
// CNI: it makes a lab node (a network namespace), runs `nodeagent server
// --disable-agent` and a separate `nodeagent agent` inside it, and measures
// pod start latency, how fast a container's exit reaches the pod's status,
// the agent's memory with pods running and what each pod's pause and log
// processes cost, kubectl exec round trips and port-forward throughput,
// and readiness probes. It removes everything it made, also on failure or
// Ctrl-C. Only addresses inside the lab node are contacted. Run it (as
// root) through `make bench`.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/nodeagent/nodeagent/bench/internal/cli"
	"github.com/nodeagent/nodeagent/bench/internal/proc"
	"github.com/nodeagent/nodeagent/bench/internal/stats"
)

// config is what to run; defaultConfig documents the defaults, --quick
// takes quickConfig's for the flags not given.
type config struct {
	Bin     string        // the nodeagent binary
	Image   string        // the test image (served by the local registry)
	Seq     int           // pods started one at a time
	Batch   int           // pods created at once (they stay for RSS and exits)
	Exits   int           // container exits measured
	Settle  time.Duration // quiet time before the idle RSS is read
	Timeout time.Duration // bound on the whole run
	// The probe phase (probes.go).
	ProbePods int           // pods with a readiness probe every second
	CPUWindow time.Duration // how long the agent's CPU time is read over
	Flips     int           // readiness changes timed to the proxy's rules
	// The streaming phase (streams.go), on the first of the Batch pods.
	Kubectl    string // kubectl binary, run inside the lab node
	Execs      int    // kubectl exec -- true round trips
	TransferMB int    // MB echoed through kubectl port-forward per transfer
	Transfers  int    // port-forward transfers
	// The volume phase (volumes.go).
	Volumes          int // pods with a new volume, and pods on a staged one
	ConfigMapPods    int // pods with a configMap volume
	ConfigMapChanges int // configMap changes timed to the pods' files
	// EvictionRounds are the eviction phase's rounds (eviction.go); 0:
	// none.
	EvictionRounds int
}

func defaultConfig() config {
	return config{Bin: "bin/nodeagent", Image: "127.0.0.1:5000/nodeagent/testserver:v1",
		Seq: 20, Batch: 30, Exits: 50, Settle: 10 * time.Second, Timeout: 20 * time.Minute,
		ProbePods: 100, CPUWindow: time.Minute, Flips: 20,
		Kubectl: "kubectl", Execs: 50, TransferMB: 100, Transfers: 3, Volumes: 20, ConfigMapPods: 20, ConfigMapChanges: 3,
		EvictionRounds: 5}
}

func quickConfig() config {
	c := defaultConfig()
	c.Seq, c.Batch, c.Exits, c.Settle = 3, 5, 5, 2*time.Second
	c.ProbePods, c.CPUWindow, c.Flips = 10, 10*time.Second, 3
	c.Execs, c.TransferMB, c.Transfers = 5, 20, 1
	c.Volumes, c.ConfigMapPods, c.ConfigMapChanges = 3, 5, 1
	c.EvictionRounds = 2
	return c
}

// results are one run's figures.
type results struct {
	labName                       string
	seq, batch, exits, exitsAgent stats.Summary
	agentRSS, serverRSS, agentMax uint64
	procs                         perPodProcs
	streams                       streamResults
	probes                        probeResults
	volumes                       volumeResults
	eviction                      evictionResults
}

func main() { cli.Main("agent bench", mainErr) }

func mainErr(ctx context.Context, args []string) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return errors.New("needs root (network namespaces, containerd, cgroups)")
	}
	return cli.Timed(ctx, cfg.Timeout, func(ctx context.Context) (*results, error) { return run(ctx, cfg, os.Stderr) },
		func(r *results, started time.Time) { report(os.Stdout, cfg, r, started) })
}

func parseFlags(args []string) (config, error) {
	cfg := defaultConfig()
	fs, quick := cli.NewFlagSet("agent-bench", &cfg.Bin, "nodeagent binary", &cfg.Timeout)
	fs.StringVar(&cfg.Image, "image", cfg.Image, "test image")
	fs.IntVar(&cfg.Seq, "seq", cfg.Seq, "pods started one at a time")
	fs.IntVar(&cfg.Batch, "batch", cfg.Batch, "pods created at once")
	fs.IntVar(&cfg.Exits, "exits", cfg.Exits, "container exits measured")
	fs.DurationVar(&cfg.Settle, "settle", cfg.Settle, "quiet time before the idle RSS is read")
	fs.IntVar(&cfg.ProbePods, "probe-pods", cfg.ProbePods, "pods with a readiness probe every second")
	fs.DurationVar(&cfg.CPUWindow, "cpu-window", cfg.CPUWindow, "how long the agent's CPU time is read over, with the probed pods")
	fs.IntVar(&cfg.Flips, "flips", cfg.Flips, "readiness changes timed to the proxy's rules")
	fs.StringVar(&cfg.Kubectl, "kubectl", cfg.Kubectl, "kubectl binary for the streaming phase")
	fs.IntVar(&cfg.Execs, "execs", cfg.Execs, "kubectl exec -- true round trips")
	fs.IntVar(&cfg.TransferMB, "transfer-mb", cfg.TransferMB, "MB echoed through kubectl port-forward per transfer")
	fs.IntVar(&cfg.Transfers, "transfers", cfg.Transfers, "port-forward transfers")
	fs.IntVar(&cfg.Volumes, "volumes", cfg.Volumes, "pods with a new volume, and pods on a staged one")
	fs.IntVar(&cfg.ConfigMapPods, "configmap-pods", cfg.ConfigMapPods, "pods with a configMap volume")
	fs.IntVar(&cfg.ConfigMapChanges, "configmap-changes", cfg.ConfigMapChanges, "configMap changes timed to the pods' files")
	fs.IntVar(&cfg.EvictionRounds, "eviction-rounds", cfg.EvictionRounds, "memory pressure rounds timed to the condition and the first eviction (0: none)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if *quick {
		q, set := quickConfig(), cli.NewQuick(fs)
		cli.Pick(set, "seq", &cfg.Seq, q.Seq)
		cli.Pick(set, "batch", &cfg.Batch, q.Batch)
		cli.Pick(set, "exits", &cfg.Exits, q.Exits)
		cli.Pick(set, "settle", &cfg.Settle, q.Settle)
		cli.Pick(set, "probe-pods", &cfg.ProbePods, q.ProbePods)
		cli.Pick(set, "cpu-window", &cfg.CPUWindow, q.CPUWindow)
		cli.Pick(set, "flips", &cfg.Flips, q.Flips)
		cli.Pick(set, "execs", &cfg.Execs, q.Execs)
		cli.Pick(set, "transfer-mb", &cfg.TransferMB, q.TransferMB)
		cli.Pick(set, "transfers", &cfg.Transfers, q.Transfers)
		cli.Pick(set, "volumes", &cfg.Volumes, q.Volumes)
		cli.Pick(set, "configmap-pods", &cfg.ConfigMapPods, q.ConfigMapPods)
		cli.Pick(set, "configmap-changes", &cfg.ConfigMapChanges, q.ConfigMapChanges)
		cli.Pick(set, "eviction-rounds", &cfg.EvictionRounds, q.EvictionRounds)
	}
	if cfg.Seq < 1 || cfg.Batch < 1 || cfg.Exits < 1 || cfg.ProbePods < 1 || cfg.Flips < 1 ||
		cfg.Execs < 1 || cfg.TransferMB < 1 || cfg.Transfers < 1 || cfg.Volumes < 1 || cfg.ConfigMapPods < 1 || cfg.ConfigMapChanges < 1 {
		return cfg, errors.New("--seq, --batch, --exits, --probe-pods, --flips, --execs, --transfer-mb, --transfers, --volumes, --configmap-pods and --configmap-changes must be at least 1")
	}
	if cfg.EvictionRounds < 0 {
		return cfg, errors.New("--eviction-rounds cannot be negative")
	}
	if cfg.CPUWindow <= 0 {
		return cfg, errors.New("--cpu-window must be positive")
	}
	return cfg, nil
}

// run sets the lab up, measures, and tears everything down, also when a
// phase fails or ctx is cancelled.
func run(ctx context.Context, cfg config, progress io.Writer) (r *results, err error) {
	fmt.Fprintln(progress, "==> lab node, nodeagent server --disable-agent, nodeagent agent")
	b, err := upNode(cfg.Bin)
	if err != nil {
		return nil, err
	}
	defer func() {
		fmt.Fprintln(progress, "==> teardown: agent --cleanup, server, containerd namespace, cgroups, lab node")
		if derr := b.down(progress); derr != nil {
			err = errors.Join(err, derr)
		}
	}()
	cs, err := b.setup(ctx)
	if err != nil {
		return nil, err
	}
	r = &results{labName: b.node.Config().NetNSName()}
	return r, measure(ctx, cfg, b, cs, r, progress)
}

// setup starts the server and the agent and waits for the node to be Ready.
func (b *benchNode) setup(ctx context.Context) (kubernetes.Interface, error) {
	restCfg, err := b.startServer(ctx)
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return nil, err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNamespace}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	if err := b.startAgent(); err != nil {
		return nil, err
	}
	return cs, b.poll(ctx, 60*time.Second, b.agent, func() error { return nodeReady(ctx, cs, b.name) })
}

func nodeReady(ctx context.Context, cs kubernetes.Interface, name string) error {
	n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
			return nil
		}
	}
	return errors.New("node not Ready")
}

// measure runs the phases: a warm-up pod (the image gets pulled once),
// pods one at a time, pods at once, the idle RSS and what each pod's
// processes cost, exec and port-forward through kubectl, container exits,
// volumes, then the probed pods.
func measure(ctx context.Context, cfg config, b *benchNode, cs kubernetes.Interface, r *results, progress io.Writer) error {
	ctx, cancel := context.WithCancel(ctx) // the watch ends before teardown
	defer cancel()
	tr, err := startTracker(ctx, cs, benchNamespace)
	if err != nil {
		return err
	}
	p := &pods{cs: cs, tr: tr, image: cfg.Image}
	fmt.Fprintln(progress, "==> warm-up pod (pulls the image into the agent's containerd namespace)")
	if _, err := p.startOne(ctx, "warm-up", corev1.RestartPolicyAlways); err != nil {
		return err
	}
	if err := p.deleteAll(ctx); err != nil {
		return err
	}
	fmt.Fprintf(progress, "==> %d pods one at a time\n", cfg.Seq)
	if r.seq, err = p.startSequential(ctx, "seq", cfg.Seq); err != nil {
		return err
	}
	if err := p.deleteAll(ctx); err != nil {
		return err
	}
	fmt.Fprintf(progress, "==> %d pods at once\n", cfg.Batch)
	if r.batch, err = p.startTogether(ctx, "batch", cfg.Batch, corev1.RestartPolicyAlways); err != nil {
		return err
	}
	fmt.Fprintf(progress, "==> idle RSS after %s\n", cfg.Settle)
	if err := b.sampleRSS(ctx, cfg.Settle, r); err != nil {
		return err
	}
	if r.procs, err = b.measurePerPodProcs(); err != nil {
		return err
	}
	first := p.tr.get("batch-0")
	if r.streams, err = measureStreams(ctx, cfg, b, first.Name, first.Status.PodIP, progress); err != nil {
		return err
	}
	fmt.Fprintf(progress, "==> %d container exits (new pods, %d at a time, beside the %d pods)\n", cfg.Exits, exitGroup, cfg.Batch)
	ex, err := followExits(ctx, b.ns)
	if err != nil {
		return err
	}
	defer ex.close()
	if r.exits, r.exitsAgent, err = p.exits(ctx, b.node, ex, cfg.Exits); err != nil {
		return err
	}
	if err := p.deleteAll(ctx); err != nil {
		return err
	}
	if r.volumes, err = measureVolumes(ctx, cfg, b, p, progress); err != nil {
		return err
	}
	if r.probes, err = measureProbes(ctx, cfg, b, p, progress); err != nil || cfg.EvictionRounds == 0 {
		return err
	}
	if err := p.deleteAll(ctx); err != nil {
		return err
	}
	r.eviction, err = measureEviction(ctx, cfg, b, p, progress)
	return err
}

// sampleRSS reads the agent's RSS every second for settle and keeps the
// last reading (and the highest), and the server's last.
func (b *benchNode) sampleRSS(ctx context.Context, settle time.Duration, r *results) error {
	end := time.Now().Add(settle)
	for {
		var err error
		if r.agentRSS, err = b.agent.RSS(); err != nil {
			return err
		}
		r.agentMax = max(r.agentMax, r.agentRSS)
		if r.serverRSS, err = b.server.RSS(); err != nil {
			return err
		}
		if time.Now().After(end) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func report(w io.Writer, cfg config, r *results, started time.Time) {
	fmt.Fprintf(w, "nodeagent agent bench  %s  nproc %d  kernel %s  %s  %s  (took %s)\n",
		started.Format("2006-01-02 15:04 MST"), runtime.NumCPU(), proc.KernelRelease(), proc.CPUModel(), runtime.Version(),
		time.Since(started).Round(time.Second))
	fmt.Fprintf(w, "load average at the end: %s (the machine is shared: other work skews these figures)\n", proc.LoadAvg())
	fmt.Fprintf(w, "setup: lab node %s; nodeagent server --disable-agent and a separate nodeagent agent in it; real containerd, runc, CNI bridge\n", r.labName)
	fmt.Fprintf(w, "pods: %s (serve --http :8080 --tcp-echo :9000), imagePullPolicy IfNotPresent, image already present; latencies seen through a watch\n\n", cfg.Image)
	line(w, "pod start, 1 at a time", r.seq, "API create -> phase Running")
	line(w, fmt.Sprintf("pod start, %d at once", cfg.Batch), r.batch, fmt.Sprintf("all Running %.1fs after the first create", r.batch.Wall.Seconds()))
	line(w, "container exit -> status", r.exits, fmt.Sprintf("GET /exit written -> container not running in the status; fresh pods, %d at a time, %d pods running beside", exitGroup, cfg.Batch))
	line(w, "  of which exit -> status", r.exitsAgent, "containerd's /tasks/exit exited_at -> the same watch event: the agent's share")
	fmt.Fprintf(w, "%-26s (kubelet's generic PLEG relists every 1 s, so it shows an exit up to 1 s late; nodeagent follows containerd's task-exit events)\n", "")
	fmt.Fprintf(w, "%-26s %s  (highest over the %s: %s; the server process: %s)\n",
		fmt.Sprintf("agent RSS idle, %d pods", cfg.Batch), stats.MiB(r.agentRSS), cfg.Settle, stats.MiB(r.agentMax), stats.MiB(r.serverRSS))
	reportPerPodProcs(w, cfg.Batch, r.procs)
	reportStreams(w, cfg, r.streams)
	reportVolumes(w, cfg, r.volumes)
	reportProbes(w, cfg, r.probes)
	if cfg.EvictionRounds > 0 {
		reportEviction(w, r.eviction)
	}
}

func line(w io.Writer, label string, s stats.Summary, what string) {
	fmt.Fprintf(w, "%-26s n=%-3d p50 %7s  p99 %7s  max %7s   (%s)\n", label, s.N, stats.WholeMs(s.P50), stats.WholeMs(s.P99), stats.WholeMs(s.Max), what)
}
