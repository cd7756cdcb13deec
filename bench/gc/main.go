// Command gc benchmarks the agent's garbage collectors (gc/) on the fake
// runtime (cri/fake): a container pass over 1,000 dead containers (100
// crash-looping pods of 10 dead instances each, with their log files), an
// image pass over 200 images on an image filesystem 90 % full, the passes
// that find nothing left to do, and the process's CPU at rest between
// passes on kubelet's periods. The fake runtime stands in for containerd:
// making 1,000 dead containers with runc takes minutes, and what is timed
// is the collectors' own work (listing, planning, removing, the log files
// on disk), not containerd's. Nothing leaves the process but the log
// files in a temporary directory, removed at the end.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/nodeagent/nodeagent/bench/internal/cli"
	"github.com/nodeagent/nodeagent/bench/internal/stats"
	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/fake"
	"github.com/nodeagent/nodeagent/gc"
)

type config struct {
	Images    int           // images on the node
	Pods      int           // crash-looping pods, one container each
	Dead      int           // dead instances per pod's container
	Passes    int           // passes timed with nothing to do
	CPUWindow time.Duration // how long the CPU at rest is read over
	Timeout   time.Duration
	// The image pass on containerd (real.go).
	Bin        string // the nodeagent binary (the runtime's pause and logger binary)
	Containerd string // containerd's socket
}

func defaultConfig() config {
	return config{Images: 200, Pods: 100, Dead: 10, Passes: 20, CPUWindow: 30 * time.Second, Timeout: 5 * time.Minute,
		Bin: "bin/nodeagent", Containerd: "/run/nodeagent/containerd/containerd.sock"}
}

func main() { cli.Main("gc bench", mainErr) }

func mainErr(ctx context.Context, args []string) error {
	cfg := defaultConfig()
	fs, quick := cli.NewFlagSet("gc-bench", &cfg.Bin, "nodeagent binary (the containerd runtime's)", &cfg.Timeout)
	fs.StringVar(&cfg.Containerd, "containerd", cfg.Containerd, "containerd socket (the image pass on containerd; skipped without root)")
	fs.IntVar(&cfg.Images, "images", cfg.Images, "images on the node")
	fs.IntVar(&cfg.Pods, "pods", cfg.Pods, "crash-looping pods")
	fs.IntVar(&cfg.Dead, "dead", cfg.Dead, "dead instances of each pod's container")
	fs.IntVar(&cfg.Passes, "passes", cfg.Passes, "passes timed with nothing to do")
	fs.DurationVar(&cfg.CPUWindow, "cpu-window", cfg.CPUWindow, "how long the CPU at rest is read over")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *quick {
		cli.Pick(cli.NewQuick(fs), "cpu-window", &cfg.CPUWindow, 3*time.Second)
	}
	if cfg.Images < 10 || cfg.Pods < 1 || cfg.Dead < 1 || cfg.Passes < 1 || cfg.CPUWindow <= 0 {
		return errors.New("--images at least 10, --pods, --dead and --passes at least 1, --cpu-window positive")
	}
	return cli.Timed(ctx, cfg.Timeout, func(ctx context.Context) (*results, error) { return run(ctx, cfg) },
		func(r *results, started time.Time) { report(os.Stdout, cfg, r, started) })
}

type results struct {
	containerPass, imagePass time.Duration
	containers               gc.ContainerStats
	images                   gc.ImageStats
	idle                     stats.Summary
	idleCPU                  time.Duration // CPU of the idle passes, all of them
	restCPU                  time.Duration // CPU over the window at rest
	real                     realResults
}

func run(ctx context.Context, cfg config) (*results, error) {
	dir, err := os.MkdirTemp("", "gc-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	rt := fake.New()
	clk := clocktesting.NewFakeClock(time.Now())
	rt.SetClock(clk.Now)
	for i := 0; i < cfg.Images; i++ {
		rt.AddImage(fmt.Sprintf("img-%03d", i))
	}
	// Images take Images MiB; half full while the containers go.
	used := uint64(cfg.Images) * fake.ImageSize
	rt.SetImageFs(2*used, 0)
	m, err := newManager(rt, dir, clk)
	if err != nil {
		return nil, err
	}
	m.GarbageCollect(ctx) // every image first seen
	clk.Step(3 * time.Minute)
	if err := fill(ctx, rt, cfg, dir, clk); err != nil {
		return nil, err
	}
	r := &results{}
	start := time.Now()
	if r.containers, _, err = m.GarbageCollect(ctx); err != nil {
		return nil, err
	}
	r.containerPass = time.Since(start)
	rt.SetImageFs(used*100/90, 0) // 90 % full
	start = time.Now()
	if _, r.images, err = m.GarbageCollect(ctx); err != nil {
		return nil, err
	}
	r.imagePass = time.Since(start)
	if err := idlePasses(ctx, m, cfg, r); err != nil {
		return nil, err
	}
	if err := atRest(ctx, rt, dir, cfg, r); err != nil {
		return nil, err
	}
	r.real, err = realImagePass(ctx, cfg)
	return r, err
}

// fill makes the crash-looping pods: Dead exited instances and a running
// one each, using the first tenth of the images.
func fill(ctx context.Context, rt *fake.Fake, cfg config, dir string, clk *clocktesting.FakeClock) error {
	for p := 0; p < cfg.Pods; p++ {
		uid := fmt.Sprintf("uid-%03d", p)
		sb, err := rt.RunPodSandbox(ctx, cri.SandboxConfig{Name: uid, Labels: map[string]string{
			cri.LabelPodUID: uid, cri.LabelPodNamespace: "bench", cri.LabelPodName: "pod-" + uid}})
		if err != nil {
			return err
		}
		for a := 0; a <= cfg.Dead; a++ {
			if err := instance(ctx, rt, sb, uid, fmt.Sprintf("img-%03d", p%(cfg.Images/10)), dir, a, a < cfg.Dead); err != nil {
				return err
			}
			clk.Step(time.Second)
		}
	}
	return nil
}

func instance(ctx context.Context, rt *fake.Fake, sb, uid, image, dir string, attempt int, exit bool) error {
	logPath := fmt.Sprintf("%s/bench_pod-%s_%s/c/%d.log", dir, uid, uid, attempt)
	id, err := rt.CreateContainer(ctx, sb, cri.ContainerConfig{Name: "c", Image: image, LogPath: logPath,
		Labels: map[string]string{cri.LabelContainerName: "c", cri.LabelAttempt: fmt.Sprint(attempt)}})
	if err == nil {
		err = rt.StartContainer(ctx, id)
	}
	if err == nil {
		err = rt.WriteLog(id, "stdout", strings.Repeat("x", 1000))
	}
	if err == nil && exit {
		err = rt.ExitContainer(id, 1, "")
	}
	return err
}

// podState: every pod exists, and the agent knows them all.
type podState struct{}

func (podState) AllSourcesReady() bool  { return true }
func (podState) PodDeleted(string) bool { return false }

func newManager(rt *fake.Fake, dir string, clk *clocktesting.FakeClock) (*gc.Manager, error) {
	cfg := gc.DefaultConfig()
	cfg.PodLogDir = dir
	deps := gc.Deps{Runtime: rt, Pods: podState{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if clk != nil {
		deps.Clock = clk
	}
	return gc.New(cfg, deps)
}

// idlePasses times passes that find nothing to do, and their CPU.
func idlePasses(ctx context.Context, m *gc.Manager, cfg config, r *results) error {
	cpu0, err := cpuTime()
	if err != nil {
		return err
	}
	var samples []time.Duration
	start := time.Now()
	for i := 0; i < cfg.Passes; i++ {
		t := time.Now()
		cs, is, err := m.GarbageCollect(ctx)
		if err != nil {
			return err
		}
		if cs != (gc.ContainerStats{}) || is.Removed != 0 {
			return fmt.Errorf("an idle pass collected %+v, %+v", cs, is)
		}
		samples = append(samples, time.Since(t))
	}
	r.idle = stats.Summarize(samples, time.Since(start))
	cpu1, err := cpuTime()
	r.idleCPU = cpu1 - cpu0
	return err
}

// atRest runs the collectors on kubelet's periods with the real clock and
// reads the process's CPU over the window, from one second after their
// first passes.
func atRest(ctx context.Context, rt *fake.Fake, dir string, cfg config, r *results) error {
	m, err := newManager(rt, dir, nil)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go m.Run(ctx)
	if err := sleep(ctx, time.Second); err != nil {
		return err
	}
	cpu0, err := cpuTime()
	if err != nil {
		return err
	}
	if err := sleep(ctx, cfg.CPUWindow); err != nil {
		return err
	}
	cpu1, err := cpuTime()
	r.restCPU = cpu1 - cpu0
	return err
}

// cpuTime is the process's CPU time (user and system), to the microsecond.
func cpuTime() (time.Duration, error) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func report(w io.Writer, cfg config, r *results, started time.Time) {
	fmt.Fprintf(w, "gc bench (fake runtime), %s\n", started.Format(time.RFC3339))
	fmt.Fprintf(w, "container pass: %d dead containers of %d pods: %d removed with their logs in %v\n",
		cfg.Pods*cfg.Dead, cfg.Pods, r.containers.Containers, r.containerPass.Round(time.Microsecond))
	fmt.Fprintf(w, "image pass:     %d images, %d %% full: %d removed down to the low threshold in %v\n",
		cfg.Images, r.images.UsagePercent, r.images.Removed, r.imagePass.Round(time.Microsecond))
	fmt.Fprintf(w, "idle pass (containers and images, nothing to do, %d containers and %d images listed): p50 %v, p99 %v; CPU %v per pass\n",
		cfg.Pods*2, cfg.Images-r.images.Removed, r.idle.P50.Round(time.Microsecond), r.idle.P99.Round(time.Microsecond),
		(r.idleCPU / time.Duration(cfg.Passes)).Round(time.Microsecond))
	fmt.Fprintf(w, "at rest between passes (periods 1 min and 5 min): %v CPU over %v (%.3f %% of a core)\n",
		r.restCPU, cfg.CPUWindow, 100*r.restCPU.Seconds()/cfg.CPUWindow.Seconds())
	if r.real.skipped != "" {
		fmt.Fprintf(w, "image pass on containerd: skipped (%s)\n", r.real.skipped)
		return
	}
	fmt.Fprintf(w, "image pass on containerd: %d images of 64 KiB imported in %v, %d %% full: %d removed (%d left) in %v; then a pass with nothing to do in %v\n",
		cfg.Images, r.real.imported.Round(time.Millisecond), r.real.stats.UsagePercent, r.real.stats.Removed, r.real.imagesLeft,
		r.real.pass.Round(time.Millisecond), r.real.idle.Round(time.Millisecond))
}
