package cm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ResourceConfig is what a cgroup is limited to. A nil field is left as
// it is; Unlimited in CPUQuota, Memory or PidsLimit lifts the limit.
type ResourceConfig struct {
	// CPUShares is the cgroup's CPU weight in v1 shares (1024 a core, at
	// least 2); v2 converts it to cpu.weight.
	CPUShares *uint64
	// CPUQuota is the CPU time (µs) the cgroup may use per CPUPeriod.
	CPUQuota  *int64
	CPUPeriod *uint64
	// Memory is the memory limit in bytes.
	Memory *int64
	// MemoryMin is memory the kernel keeps for the cgroup (v2 memory.min;
	// v1 has no such knob and leaves it).
	MemoryMin *int64
	// PidsLimit is the most tasks the cgroup may hold.
	PidsLimit *int64
}

// Unlimited, as CPUQuota, Memory or PidsLimit, lifts the limit.
const Unlimited int64 = -1

// Cgroups makes, limits and removes cgroups. Paths are cgroupfs paths
// relative to each hierarchy's root ("/nodeagent/n1/kubepods/burstable").
type Cgroups interface {
	// Create makes the cgroup (and its parents) where missing and applies
	// rc (nil: no limits).
	Create(path string, rc *ResourceConfig) error
	// Update applies rc to an existing cgroup.
	Update(path string, rc *ResourceConfig) error
	// Exists says whether the cgroup is there.
	Exists(path string) bool
	// Destroy removes the cgroup with its (task-free) children; one that is
	// not there is not an error.
	Destroy(path string) error
	// Children lists the names of the cgroup's child cgroups.
	Children(path string) ([]string, error)
	// Version is 1 or 2.
	Version() int
}

// DetectCgroups is the Cgroups of the hierarchy mounted at root: V2 when
// root is the unified hierarchy (it has cgroup.controllers), else V1.
func DetectCgroups(root string) Cgroups {
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err == nil {
		return V2{Root: root}
	}
	return V1{Root: root}
}

// cgroupFile is one value to write: a file of the cgroup's directory in a
// hierarchy ("" for v2's unified one).
type cgroupFile struct {
	hierarchy, name, value string
}

// writeFiles writes the values in order, naming the file that failed.
func writeFiles(dirOf func(hierarchy string) string, files []cgroupFile) error {
	for _, f := range files {
		p := filepath.Join(dirOf(f.hierarchy), f.name)
		if err := os.WriteFile(p, []byte(f.value), 0o644); err != nil {
			return fmt.Errorf("cgroup: write %q to %s: %w", f.value, p, err)
		}
	}
	return nil
}

// validPath refuses a cgroup path that is not absolute and clean: every
// path is built by this package, never taken from a user.
func validPath(p string) error {
	if !strings.HasPrefix(p, "/") || filepath.Clean(p) != p || p == "/" {
		return fmt.Errorf("cgroup: %q is not a clean absolute cgroup path below the root", p)
	}
	return nil
}

// childDirs lists the directories in dir; none when dir is missing.
func childDirs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, ignoreMissing(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

func itoa(n int64) string  { return strconv.FormatInt(n, 10) }
func utoa(n uint64) string { return strconv.FormatUint(n, 10) }
func isDir(p string) bool  { st, err := os.Stat(p); return err == nil && st.IsDir() }
func ignoreMissing(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
