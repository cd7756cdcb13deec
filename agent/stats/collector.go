package stats

import (
	"context"
	"path"
	"time"

	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/cri"
)

// Runtime lists what runs on the node (cri.Runtime does).
type Runtime interface {
	ListPodSandboxes(ctx context.Context, filter map[string]string) ([]cri.Sandbox, error)
	ListContainers(ctx context.Context, filter map[string]string) ([]cri.Container, error)
}

// Config says where the collector looks; DefaultSampling documents the
// sampling defaults.
type Config struct {
	NodeName string
	// RootDir's filesystem is the node's (kubelet: its root directory).
	RootDir string
	// LogDir's filesystem holds the containers' logs.
	LogDir string
	// PodCgroup is a pod's cgroup path; its containers' are below it, named
	// by container ID.
	PodCgroup func(uid string) string
	// PodsCgroup is the cgroup of every pod (kubepods), reported as the
	// "pods" system container: its memory against node allocatable.
	// Empty: not reported.
	PodsCgroup string
	// ImageFsDir's filesystem holds the runtime's images (its root
	// directory); empty: not reported.
	ImageFsDir string
	// SampleInterval is how often Run samples CPU use; MinWindow the least
	// time between the two samples a CPU rate is computed from.
	SampleInterval, MinWindow time.Duration
}

// DefaultSampling sets the sampling defaults: every 10 s (cadvisor's
// housekeeping interval), rates over at least 1 s.
func (c Config) DefaultSampling() Config {
	if c.SampleInterval == 0 {
		c.SampleInterval = 10 * time.Second
	}
	if c.MinWindow == 0 {
		c.MinWindow = time.Second
	}
	return c
}

// Deps are the kernel edges the collector reads through.
type Deps struct {
	Cgroups Cgroups
	Network Network
	Host    Host
	// Volumes measures the pods' local volumes; nil: none reported.
	Volumes Volumes
}

// Volumes measures what a pod's local ephemeral volumes (emptyDir on
// disk) use of the node's filesystem.
type Volumes interface {
	PodVolumes(uid string) []VolumeUsage
}

// VolumeUsage is one volume's use.
type VolumeUsage struct {
	Name              string
	UsedBytes, Inodes uint64
}

// Collector builds summaries; it is safe for concurrent use.
type Collector struct {
	cfg   Config
	rt    Runtime
	deps  Deps
	clock clock.WithTicker
	rates *cpuRates
}

// New makes a collector; Run samples CPU in the background.
func New(cfg Config, rt Runtime, deps Deps, clk clock.WithTicker) *Collector {
	cfg = cfg.DefaultSampling()
	return &Collector{cfg: cfg, rt: rt, deps: deps, clock: clk, rates: newCPURates(cfg.MinWindow)}
}

// rootCgroup is the node's: everything.
const rootCgroup = "/"

// podsOnNode are the pods with a ready sandbox and their running
// containers, as the runtime reports them.
type podOnNode struct {
	sandbox    cri.Sandbox
	containers []cri.Container
}

func (c *Collector) list(ctx context.Context) ([]podOnNode, error) {
	sbs, err := c.rt.ListPodSandboxes(ctx, nil)
	if err != nil {
		return nil, err
	}
	cs, err := c.rt.ListContainers(ctx, nil)
	if err != nil {
		return nil, err
	}
	byUID := map[string]*podOnNode{}
	var out []*podOnNode
	for _, sb := range sbs {
		uid := sb.Labels[cri.LabelPodUID]
		if sb.State != cri.SandboxReady || uid == "" || byUID[uid] != nil {
			continue
		}
		byUID[uid] = &podOnNode{sandbox: sb}
		out = append(out, byUID[uid])
	}
	for _, ct := range cs {
		if p := byUID[ct.Labels[cri.LabelPodUID]]; p != nil && ct.State == cri.ContainerRunning {
			p.containers = append(p.containers, ct)
		}
	}
	pods := make([]podOnNode, len(out))
	for i, p := range out {
		pods[i] = *p
	}
	return pods, nil
}

func (c *Collector) podCgroup(p podOnNode) string {
	return c.cfg.PodCgroup(p.sandbox.Labels[cri.LabelPodUID])
}

func (c *Collector) containerCgroup(p podOnNode, ct cri.Container) string {
	return path.Join(c.podCgroup(p), ct.ID)
}

// Run samples the CPU use of the node, the pods and their containers every
// SampleInterval until ctx ends, so that a rate is at hand when asked.
func (c *Collector) Run(ctx context.Context) {
	c.sampleCPU(ctx)
	t := c.clock.NewTicker(c.cfg.SampleInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			c.sampleCPU(ctx)
		}
	}
}

// sampleCPU takes one CPU sample of every cgroup a summary reports, and
// forgets those of pods and containers that are gone.
func (c *Collector) sampleCPU(ctx context.Context) {
	pods, err := c.list(ctx)
	if err != nil {
		return // the next sample or request tries again
	}
	seen := map[string]bool{}
	for _, p := range c.cgroupPaths(pods) {
		seen[p] = true
		c.cpu(p)
	}
	c.rates.keepOnly(seen)
}

// cgroupPaths are the cgroups a summary of pods reads.
func (c *Collector) cgroupPaths(pods []podOnNode) []string {
	out := []string{rootCgroup}
	for _, p := range pods {
		out = append(out, c.podCgroup(p))
		for _, ct := range p.containers {
			out = append(out, c.containerCgroup(p, ct))
		}
	}
	return out
}
