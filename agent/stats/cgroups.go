package stats

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Cgroups reads what a cgroup has used. Paths are cgroup paths
// ("/nodeagent/n1/pod<uid>"; "/" is the root, the whole node).
type Cgroups interface {
	CPU(path string) (CPUUsage, error)
	Memory(path string) (MemoryUsage, error)
	// Pids is how many tasks the cgroup holds (pids.current).
	Pids(path string) (uint64, error)
}

// CPUUsage is a cgroup's cumulative CPU time.
type CPUUsage struct {
	UsageNanoseconds uint64
}

// MemoryUsage is a cgroup's memory, in bytes.
type MemoryUsage struct {
	Usage                       uint64 // all memory charged, page cache included
	WorkingSet                  uint64 // Usage minus inactive file pages (kubelet's)
	RSS                         uint64 // anonymous memory and swap cache
	PageFaults, MajorPageFaults uint64
	// Limit is the cgroup's limit; 0: none.
	Limit uint64
}

// noLimit: a v1 limit this large means none (the default is 2^63 rounded
// down to a page).
const noLimit = 1 << 62

// V1 reads cgroup v1: the cpuacct and memory hierarchies mounted under
// Root (/sys/fs/cgroup; cpuacct may be a link to cpu,cpuacct).
type V1 struct {
	Root string
}

var _ Cgroups = V1{}

// CPU reads cpuacct.usage.
func (c V1) CPU(path string) (CPUUsage, error) {
	n, err := readUint(filepath.Join(c.Root, "cpuacct", path, "cpuacct.usage"))
	return CPUUsage{UsageNanoseconds: n}, err
}

// Memory reads memory.usage_in_bytes, memory.limit_in_bytes and the
// hierarchical totals of memory.stat.
func (c V1) Memory(path string) (MemoryUsage, error) {
	dir := filepath.Join(c.Root, "memory", path)
	usage, err := readUint(filepath.Join(dir, "memory.usage_in_bytes"))
	if err != nil {
		return MemoryUsage{}, err
	}
	stat, err := readKeyed(filepath.Join(dir, "memory.stat"))
	if err != nil {
		return MemoryUsage{}, err
	}
	m := MemoryUsage{Usage: usage, WorkingSet: usage, RSS: stat["total_rss"],
		PageFaults: stat["total_pgfault"], MajorPageFaults: stat["total_pgmajfault"]}
	if inactive := stat["total_inactive_file"]; inactive < usage {
		m.WorkingSet = usage - inactive
	}
	if limit, err := readUint(filepath.Join(dir, "memory.limit_in_bytes")); err == nil && limit < noLimit {
		m.Limit = limit
	}
	return m, nil
}

// Pids reads pids.current in the pids hierarchy.
func (c V1) Pids(path string) (uint64, error) {
	return readUint(filepath.Join(c.Root, "pids", path, "pids.current"))
}

func readUint(path string) (uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}

// readKeyed reads "key value" lines; lines that do not parse are skipped.
func readKeyed(path string) (map[string]uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); ok && err == nil {
			out[k] = n
		}
	}
	return out, nil
}
