package stats

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"

	"github.com/nodeagent/nodeagent/cri"
)

// Summary is kubelet's /stats/summary: the node and every pod with a ready
// sandbox, with its running containers. A pod or container whose cgroup
// cannot be read (it just ended) is reported without CPU or memory.
func (c *Collector) Summary(ctx context.Context) (*statsapi.Summary, error) {
	pods, err := c.list(ctx)
	if err != nil {
		return nil, fmt.Errorf("stats: list pods: %w", err)
	}
	node, err := c.nodeStats()
	if err != nil {
		return nil, err
	}
	s := &statsapi.Summary{Node: node, Pods: make([]statsapi.PodStats, 0, len(pods))}
	seen := map[string]bool{rootCgroup: true}
	for _, p := range pods {
		s.Pods = append(s.Pods, c.podStats(p, seen))
	}
	c.rates.keepOnly(seen)
	return s, nil
}

func (c *Collector) nodeStats() (statsapi.NodeStats, error) {
	boot, err := c.deps.Host.BootTime()
	if err != nil {
		return statsapi.NodeStats{}, fmt.Errorf("stats: boot time: %w", err)
	}
	n := statsapi.NodeStats{NodeName: c.cfg.NodeName, StartTime: metav1.NewTime(boot), CPU: c.cpu(rootCgroup)}
	n.Memory = c.memory(rootCgroup)
	if n.Memory != nil {
		if total, err := c.deps.Host.MemTotal(); err == nil {
			n.Memory.AvailableBytes = ptr(sub(total, *n.Memory.WorkingSetBytes))
		}
	}
	if ifs, err := c.deps.Network.Interfaces(""); err == nil {
		n.Network = networkStats(c.clock.Now(), hostInterfaces(ifs))
	}
	if fs, err := c.deps.Host.Statfs(c.cfg.RootDir); err == nil {
		n.Fs = fsStats(c.clock.Now(), fs)
	}
	n.SystemContainers = c.systemContainers()
	n.Runtime = c.runtimeStats()
	n.Rlimit = c.rlimit()
	return n, nil
}

// systemContainers reports the pods' cgroup as kubelet's "pods" system
// container: its memory, available up to its limit (node allocatable).
func (c *Collector) systemContainers() []statsapi.ContainerStats {
	if c.cfg.PodsCgroup == "" {
		return nil
	}
	boot, _ := c.deps.Host.BootTime()
	return []statsapi.ContainerStats{{Name: statsapi.SystemContainerPods, StartTime: metav1.NewTime(boot),
		CPU: c.cpu(c.cfg.PodsCgroup), Memory: c.memory(c.cfg.PodsCgroup)}}
}

// runtimeStats is the image filesystem's use.
func (c *Collector) runtimeStats() *statsapi.RuntimeStats {
	if c.cfg.ImageFsDir == "" {
		return nil
	}
	fs, err := c.deps.Host.Statfs(c.cfg.ImageFsDir)
	if err != nil {
		return nil
	}
	return &statsapi.RuntimeStats{ImageFs: fsStats(c.clock.Now(), fs)}
}

// rlimit is the node's process IDs: the most and how many are used.
func (c *Collector) rlimit() *statsapi.RlimitStats {
	maxPID, running, err := c.deps.Host.Rlimit()
	if err != nil {
		return nil
	}
	return &statsapi.RlimitStats{Time: metav1.NewTime(c.clock.Now()), MaxPID: ptr(int64(maxPID)), NumOfRunningProcesses: ptr(int64(running))}
}

// hostInterfaces leaves out the pods' veth ends, as cadvisor does for the
// node.
func hostInterfaces(ifs []Interface) []Interface {
	return slices.DeleteFunc(ifs, func(i Interface) bool { return strings.HasPrefix(i.Name, "veth") })
}

func (c *Collector) podStats(p podOnNode, seen map[string]bool) statsapi.PodStats {
	sb := p.sandbox
	cg := c.podCgroup(p)
	seen[cg] = true
	ps := statsapi.PodStats{
		PodRef: statsapi.PodReference{Name: sb.Labels[cri.LabelPodName], Namespace: sb.Labels[cri.LabelPodNamespace],
			UID: sb.Labels[cri.LabelPodUID]},
		StartTime:  metav1.NewTime(sb.CreatedAt),
		Containers: make([]statsapi.ContainerStats, 0, len(p.containers)),
		CPU:        c.cpu(cg),
		Memory:     c.memory(cg),
	}
	for _, ct := range p.containers {
		ps.Containers = append(ps.Containers, c.containerStats(p, ct, seen))
	}
	if n, err := c.deps.Cgroups.Pids(cg); err == nil {
		ps.ProcessStats = &statsapi.ProcessStats{ProcessCount: ptr(n)}
	}
	ps.VolumeStats = c.volumeStats(ps.PodRef.UID)
	ps.EphemeralStorage = ephemeralStorage(c.clock.Now(), ps)
	if sb.NetNSPath != "" {
		if ifs, err := c.deps.Network.Interfaces(sb.NetNSPath); err == nil {
			ps.Network = networkStats(c.clock.Now(), ifs)
		}
	}
	return ps
}

func (c *Collector) containerStats(p podOnNode, ct cri.Container, seen map[string]bool) statsapi.ContainerStats {
	cg := c.containerCgroup(p, ct)
	seen[cg] = true
	start := ct.StartedAt
	if start.IsZero() {
		start = ct.CreatedAt
	}
	cs := statsapi.ContainerStats{Name: ct.Labels[cri.LabelContainerName], StartTime: metav1.NewTime(start),
		CPU: c.cpu(cg), Memory: c.memory(cg)}
	cs.Logs = c.logStats(ct.LogPath)
	return cs
}

// cpu reads a cgroup's CPU use now and its rate since an earlier sample;
// nil when the cgroup cannot be read.
func (c *Collector) cpu(cgroup string) *statsapi.CPUStats {
	read := func() (uint64, error) {
		u, err := c.deps.Cgroups.CPU(cgroup)
		return u.UsageNanoseconds, err
	}
	smp, rate, ok, err := c.rates.sample(cgroup, read, c.clock.Now)
	if err != nil {
		return nil
	}
	s := &statsapi.CPUStats{Time: metav1.NewTime(smp.at), UsageCoreNanoSeconds: ptr(smp.usage)}
	if ok {
		s.UsageNanoCores = ptr(rate)
	}
	return s
}

// memory reads a cgroup's memory; nil when it cannot be read.
func (c *Collector) memory(cgroup string) *statsapi.MemoryStats {
	m, err := c.deps.Cgroups.Memory(cgroup)
	if err != nil {
		return nil
	}
	s := &statsapi.MemoryStats{Time: metav1.NewTime(c.clock.Now()), UsageBytes: ptr(m.Usage),
		WorkingSetBytes: ptr(m.WorkingSet), RSSBytes: ptr(m.RSS), PageFaults: ptr(m.PageFaults),
		MajorPageFaults: ptr(m.MajorPageFaults)}
	if m.Limit > 0 {
		s.AvailableBytes = ptr(sub(m.Limit, m.WorkingSet))
	}
	return s
}

// logStats is the log filesystem's use, with the container's log file
// and its rotated files (<log>.*) as what the container uses of it; nil
// when unknown.
func (c *Collector) logStats(logPath string) *statsapi.FsStats {
	if logPath == "" {
		return nil
	}
	fs, err := c.deps.Host.Statfs(c.cfg.LogDir)
	if err != nil {
		return nil
	}
	s := fsStats(c.clock.Now(), fs)
	rotated, _ := filepath.Glob(logPath + ".*")
	var used, files uint64
	for _, f := range append([]string{logPath}, rotated...) {
		if size, err := c.deps.Host.FileSize(f); err == nil {
			used, files = used+size, files+1
		}
	}
	if files > 0 {
		s.UsedBytes, s.InodesUsed = ptr(used), ptr(files)
	}
	return s
}

// volumeStats are the pod's local volumes' use.
func (c *Collector) volumeStats(uid string) []statsapi.VolumeStats {
	if c.deps.Volumes == nil {
		return nil
	}
	var out []statsapi.VolumeStats
	now := metav1.NewTime(c.clock.Now())
	for _, v := range c.deps.Volumes.PodVolumes(uid) {
		out = append(out, statsapi.VolumeStats{Name: v.Name,
			FsStats: statsapi.FsStats{Time: now, UsedBytes: ptr(v.UsedBytes), InodesUsed: ptr(v.Inodes)}})
	}
	return out
}

// ephemeralStorage is what the pod uses of the node's filesystem, as
// kubelet sums it: its containers' logs (and writable layers, when
// known) and its local volumes.
func ephemeralStorage(now time.Time, ps statsapi.PodStats) *statsapi.FsStats {
	var used, inodes uint64
	addFs := func(fs *statsapi.FsStats) {
		if fs != nil && fs.UsedBytes != nil {
			used += *fs.UsedBytes
		}
		if fs != nil && fs.InodesUsed != nil {
			inodes += *fs.InodesUsed
		}
	}
	for _, ct := range ps.Containers {
		addFs(ct.Logs)
		addFs(ct.Rootfs)
	}
	for i := range ps.VolumeStats {
		addFs(&ps.VolumeStats[i].FsStats)
	}
	return &statsapi.FsStats{Time: metav1.NewTime(now), UsedBytes: ptr(used), InodesUsed: ptr(inodes)}
}

func fsStats(now time.Time, fs FsUsage) *statsapi.FsStats {
	return &statsapi.FsStats{Time: metav1.NewTime(now), AvailableBytes: ptr(fs.Available), CapacityBytes: ptr(fs.Capacity),
		UsedBytes: ptr(fs.Used), InodesFree: ptr(fs.InodesFree), Inodes: ptr(fs.Inodes), InodesUsed: ptr(sub(fs.Inodes, fs.InodesFree))}
}

// defaultInterface is the one kubelet reports at the top of NetworkStats.
const defaultInterface = "eth0"

// networkStats lists the interfaces, eth0 (else the first) on top.
func networkStats(now time.Time, ifs []Interface) *statsapi.NetworkStats {
	if len(ifs) == 0 {
		return nil
	}
	n := &statsapi.NetworkStats{Time: metav1.NewTime(now)}
	for _, i := range ifs {
		n.Interfaces = append(n.Interfaces, statsapi.InterfaceStats{Name: i.Name, RxBytes: ptr(i.RxBytes),
			RxErrors: ptr(i.RxErrors), TxBytes: ptr(i.TxBytes), TxErrors: ptr(i.TxErrors)})
	}
	n.InterfaceStats = n.Interfaces[0]
	for _, i := range n.Interfaces {
		if i.Name == defaultInterface {
			n.InterfaceStats = i
		}
	}
	return n
}

func ptr[T any](v T) *T { return &v }

// sub is a - b, or 0 when b is larger.
func sub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

// OnlyCPUAndMemory strips a summary to its CPU and memory (kubelet's
// only_cpu_and_memory=true).
func OnlyCPUAndMemory(s *statsapi.Summary) {
	s.Node.Network, s.Node.Fs, s.Node.Runtime = nil, nil, nil
	for i := range s.Pods {
		p := &s.Pods[i]
		p.Network, p.VolumeStats, p.EphemeralStorage = nil, nil, nil
		for j := range p.Containers {
			p.Containers[j].Logs, p.Containers[j].Rootfs = nil, nil
		}
	}
}

// NodeMemory is the node's memory as the summary reports it, alone and
// cheaply (two reads): what is available (the node's memory less the root
// cgroup's working set) and the working set. The eviction manager watches
// memory.available with it between its passes.
func (c *Collector) NodeMemory() (available, workingSet uint64, err error) {
	m, err := c.deps.Cgroups.Memory(rootCgroup)
	if err != nil {
		return 0, 0, fmt.Errorf("stats: node memory: %w", err)
	}
	total, err := c.deps.Host.MemTotal()
	if err != nil {
		return 0, 0, fmt.Errorf("stats: node memory: %w", err)
	}
	return sub(total, m.WorkingSet), m.WorkingSet, nil
}
