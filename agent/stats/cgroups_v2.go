package stats

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// V2 reads the unified hierarchy (cgroup v2) mounted at Root: cpu.stat,
// memory.current, memory.stat and memory.max of each cgroup directory, and
// for the root cgroup's memory (it has no memory.current) Proc's meminfo
// and vmstat.
type V2 struct {
	Root string
	Proc string // /proc when empty
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
// pgmajfault) and memory.max. The root cgroup has no memory.current (nor,
// on older kernels, memory.stat): its memory is the machine's (rootMemory).
func (c V2) Memory(path string) (MemoryUsage, error) {
	if filepath.Clean("/"+path) == "/" {
		return c.rootMemory()
	}
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

// rootMemory is the machine's memory as kubelet (cAdvisor, runc) counts
// the root cgroup's on cgroup v2, from /proc/meminfo: usage MemTotal -
// MemFree, working set usage - Inactive(file), RSS AnonPages; the page
// faults from /proc/vmstat.
func (c V2) rootMemory() (MemoryUsage, error) {
	proc := c.Proc
	if proc == "" {
		proc = "/proc"
	}
	info, err := readMeminfo(filepath.Join(proc, "meminfo"))
	if err != nil {
		return MemoryUsage{}, err
	}
	total, free := info["MemTotal"], info["MemFree"]
	if total == 0 {
		return MemoryUsage{}, fmt.Errorf("%s: no MemTotal", filepath.Join(proc, "meminfo"))
	}
	m := MemoryUsage{Usage: sub(total, free), RSS: info["AnonPages"]}
	m.WorkingSet = sub(m.Usage, info["Inactive(file)"])
	if vm, err := readKeyed(filepath.Join(proc, "vmstat")); err == nil {
		m.PageFaults, m.MajorPageFaults = vm["pgfault"], vm["pgmajfault"]
	}
	return m, nil
}

// readMeminfo reads /proc/meminfo's "Key:   N kB" lines into bytes by key.
func readMeminfo(path string) (map[string]uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			continue
		}
		if len(f) > 2 && f[2] == "kB" {
			n *= 1024
		}
		out[strings.TrimSuffix(f[0], ":")] = n
	}
	return out, nil
}

// Pids reads pids.current.
func (c V2) Pids(path string) (uint64, error) {
	return readUint(filepath.Join(c.Root, path, "pids.current"))
}

// DetectCgroups is the reader for the hierarchy mounted at root: V2 when
// root is the unified hierarchy (it has cgroup.controllers), else V1.
func DetectCgroups(root string) Cgroups {
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err == nil {
		return V2{Root: root, Proc: "/proc"}
	}
	return V1{Root: root}
}
