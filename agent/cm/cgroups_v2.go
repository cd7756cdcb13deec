package cm

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nodeagent/nodeagent/internal/cgroupfs"
)

// V2 is the unified hierarchy (cgroup v2) mounted at Root. Making a
// cgroup enables the cpu, memory and pids controllers (those the root
// offers) in the subtree_control of every ancestor, so that its limits
// apply.
type V2 struct {
	Root string
}

var _ Cgroups = V2{}

// v2Controllers are the controllers a cgroup is limited with.
func v2Controllers() []string { return []string{"cpu", "memory", "pids"} }

// Version implements Cgroups.
func (V2) Version() int { return 2 }

func (c V2) dir(path string) string { return filepath.Join(c.Root, path) }

// Create implements Cgroups.
func (c V2) Create(path string, rc *ResourceConfig) error {
	if err := validPath(path); err != nil {
		return err
	}
	if err := os.MkdirAll(c.dir(path), 0o755); err != nil {
		return fmt.Errorf("cgroup: %w", err)
	}
	if err := c.enableControllers(path); err != nil {
		return err
	}
	return c.Update(path, rc)
}

// enableControllers writes "+cpu +memory +pids" (those available) into
// the subtree_control of the root and of every ancestor of path.
func (c V2) enableControllers(path string) error {
	avail, err := os.ReadFile(filepath.Join(c.Root, "cgroup.controllers"))
	if err != nil {
		return fmt.Errorf("cgroup: %w", err)
	}
	var enable []string
	for _, ctl := range v2Controllers() {
		if slices.Contains(strings.Fields(string(avail)), ctl) {
			enable = append(enable, "+"+ctl)
		}
	}
	if len(enable) == 0 {
		return nil
	}
	value := strings.Join(enable, " ")
	for _, p := range ancestors(path) {
		f := filepath.Join(c.dir(p), "cgroup.subtree_control")
		if err := os.WriteFile(f, []byte(value), 0o644); err != nil {
			return fmt.Errorf("cgroup: enable %s in %s: %w", value, f, err)
		}
	}
	return nil
}

// ancestors are path's ancestors, the root first: a controller can be
// enabled in a cgroup's subtree_control only once its parent's enables it
// (the kernel answers ENOENT otherwise).
func ancestors(path string) []string {
	var out []string
	for p := filepath.Dir(path); ; p = filepath.Dir(p) {
		out = append(out, p)
		if p == "/" {
			break
		}
	}
	slices.Reverse(out)
	return out
}

// Update implements Cgroups.
func (c V2) Update(path string, rc *ResourceConfig) error {
	if err := validPath(path); err != nil {
		return err
	}
	return writeFiles(func(string) string { return c.dir(path) }, v2Files(rc))
}

// v2Files are the files rc writes: shares become cpu.weight, quota and
// period cpu.max ("max" without a quota).
func v2Files(rc *ResourceConfig) []cgroupFile {
	if rc == nil {
		return nil
	}
	var out []cgroupFile
	if rc.CPUShares != nil {
		out = append(out, cgroupFile{"", "cpu.weight", utoa(SharesToWeight(*rc.CPUShares))})
	}
	if rc.CPUQuota != nil || rc.CPUPeriod != nil {
		out = append(out, cgroupFile{"", "cpu.max", cpuMax(rc.CPUQuota, rc.CPUPeriod)})
	}
	if rc.Memory != nil {
		out = append(out, cgroupFile{"", "memory.max", maxOr(*rc.Memory)})
	}
	if rc.MemoryMin != nil {
		out = append(out, cgroupFile{"", "memory.min", itoa(*rc.MemoryMin)})
	}
	if rc.PidsLimit != nil {
		out = append(out, cgroupFile{"", "pids.max", maxOr(*rc.PidsLimit)})
	}
	return out
}

// cpuMax is cpu.max's "<quota> <period>"; the quota is "max" when unset
// or unlimited, the period 100000 µs when unset.
func cpuMax(quota *int64, period *uint64) string {
	q, p := "max", uint64(defaultCPUPeriod)
	if quota != nil && *quota != Unlimited {
		q = itoa(*quota)
	}
	if period != nil {
		p = *period
	}
	return q + " " + utoa(p)
}

func maxOr(n int64) string {
	if n == Unlimited {
		return "max"
	}
	return itoa(n)
}

// SharesToWeight converts v1 CPU shares [2, 262144] to a v2 cpu.weight
// [1, 10000], as runc and kubelet do.
func SharesToWeight(shares uint64) uint64 {
	if shares == 0 {
		return 0
	}
	shares = min(max(shares, minShares), maxShares)
	return 1 + ((shares-minShares)*9999)/(maxShares-minShares)
}

// Exists implements Cgroups.
func (c V2) Exists(path string) bool { return validPath(path) == nil && isDir(c.dir(path)) }

// Destroy implements Cgroups.
func (c V2) Destroy(path string) error {
	if err := validPath(path); err != nil {
		return err
	}
	return cgroupfs.RemoveTree(c.Root, path)
}

// Children implements Cgroups.
func (c V2) Children(path string) ([]string, error) {
	if err := validPath(path); err != nil {
		return nil, err
	}
	return childDirs(c.dir(path))
}
