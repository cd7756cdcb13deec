package stats

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// V2 reads the unified hierarchy (cgroup v2) mounted at Root: cpu.stat,
// memory.current, memory.stat and memory.max of each cgroup directory.
type V2 struct {
	Root string
}

var _ Cgroups = V2{}

// CPU reads usage_usec from cpu.stat.
func (c V2) CPU(path string) (CPUUsage, error) {
	stat, err := readKeyed(filepath.Join(c.Root, path, "cpu.stat"))
	if err != nil {
		return CPUUsage{}, err
	}
	return CPUUsage{UsageNanoseconds: stat["usage_usec"] * 1000}, nil
}

// Memory reads memory.current, memory.stat (anon, inactive_file, pgfault,
// pgmajfault) and memory.max. The root cgroup has no memory.current: its
// usage is MemTotal - MemAvailable, which the caller does not get here, so
// the root's memory is an error (as with kubelet, the node's then comes
// from elsewhere).
func (c V2) Memory(path string) (MemoryUsage, error) {
	dir := filepath.Join(c.Root, path)
	usage, err := readUint(filepath.Join(dir, "memory.current"))
	if err != nil {
		return MemoryUsage{}, err
	}
	stat, err := readKeyed(filepath.Join(dir, "memory.stat"))
	if err != nil {
		return MemoryUsage{}, err
	}
	m := MemoryUsage{Usage: usage, WorkingSet: usage, RSS: stat["anon"], PageFaults: stat["pgfault"], MajorPageFaults: stat["pgmajfault"]}
	if inactive := stat["inactive_file"]; inactive < usage {
		m.WorkingSet = usage - inactive
	}
	if data, err := os.ReadFile(filepath.Join(dir, "memory.max")); err == nil {
		if limit, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64); err == nil {
			m.Limit = limit // "max": none
		}
	}
	return m, nil
}

// Pids reads pids.current.
func (c V2) Pids(path string) (uint64, error) {
	return readUint(filepath.Join(c.Root, path, "pids.current"))
}

// DetectCgroups is the reader for the hierarchy mounted at root: V2 when
// root is the unified hierarchy (it has cgroup.controllers), else V1.
func DetectCgroups(root string) Cgroups {
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err == nil {
		return V2{Root: root}
	}
	return V1{Root: root}
}
