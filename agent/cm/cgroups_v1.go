package cm

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nodeagent/nodeagent/internal/cgroupfs"
)

// V1 is cgroup v1: one hierarchy per controller mounted under Root
// (/sys/fs/cgroup/cpu, memory, pids...). A cgroup is made in the
// hierarchies it is limited in (cpu, cpuacct, memory, pids); runc makes
// the rest along the path of the containers below it.
type V1 struct {
	Root string
}

var _ Cgroups = V1{}

// v1Hierarchies are the hierarchies a cgroup is made in.
func v1Hierarchies() []string { return []string{"cpu", "cpuacct", "memory", "pids"} }

// Version implements Cgroups.
func (V1) Version() int { return 1 }

func (c V1) dir(hierarchy, path string) string { return filepath.Join(c.Root, hierarchy, path) }

// Create implements Cgroups: the directory in every hierarchy mounted
// under Root, then the limits.
func (c V1) Create(path string, rc *ResourceConfig) error {
	if err := validPath(path); err != nil {
		return err
	}
	for _, h := range v1Hierarchies() {
		if !isDir(filepath.Join(c.Root, h)) {
			continue // not mounted here (a v1 host without pids, say)
		}
		if err := os.MkdirAll(c.dir(h, path), 0o755); err != nil {
			return fmt.Errorf("cgroup: %w", err)
		}
	}
	return c.Update(path, rc)
}

// Update implements Cgroups.
func (c V1) Update(path string, rc *ResourceConfig) error {
	if err := validPath(path); err != nil {
		return err
	}
	files := v1Files(rc)
	// A hierarchy that is not mounted cannot be limited: pids on an old
	// kernel, say. Skip what has no directory rather than fail the pod.
	kept := files[:0]
	for _, f := range files {
		if isDir(c.dir(f.hierarchy, path)) {
			kept = append(kept, f)
		}
	}
	return writeFiles(func(h string) string { return c.dir(h, path) }, kept)
}

// v1Files are the files rc writes, in an order the kernel accepts: the
// CFS period before the quota.
func v1Files(rc *ResourceConfig) []cgroupFile {
	if rc == nil {
		return nil
	}
	var out []cgroupFile
	if rc.CPUShares != nil {
		out = append(out, cgroupFile{"cpu", "cpu.shares", utoa(*rc.CPUShares)})
	}
	if rc.CPUPeriod != nil {
		out = append(out, cgroupFile{"cpu", "cpu.cfs_period_us", utoa(*rc.CPUPeriod)})
	}
	if rc.CPUQuota != nil {
		out = append(out, cgroupFile{"cpu", "cpu.cfs_quota_us", itoa(*rc.CPUQuota)})
	}
	if rc.Memory != nil {
		out = append(out, cgroupFile{"memory", "memory.limit_in_bytes", itoa(*rc.Memory)})
	}
	if rc.PidsLimit != nil {
		v := "max"
		if *rc.PidsLimit != Unlimited {
			v = itoa(*rc.PidsLimit)
		}
		out = append(out, cgroupFile{"pids", "pids.max", v})
	}
	return out
}

// Exists implements Cgroups: the memory hierarchy has the cgroup.
func (c V1) Exists(path string) bool { return validPath(path) == nil && isDir(c.dir("memory", path)) }

// Destroy implements Cgroups: the cgroup goes from every hierarchy,
// children first (runc's container cgroups below a pod's among them).
func (c V1) Destroy(path string) error {
	if err := validPath(path); err != nil {
		return err
	}
	return cgroupfs.RemoveTree(c.Root, path)
}

// Children implements Cgroups: the memory hierarchy's child directories.
func (c V1) Children(path string) ([]string, error) {
	if err := validPath(path); err != nil {
		return nil, err
	}
	return childDirs(c.dir("memory", path))
}
