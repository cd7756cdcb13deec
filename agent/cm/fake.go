package cm

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"
)

// Fake is an in-memory cgroup tree: what was made, with the limits last
// applied. It refuses what the kernel refuses: an update of a cgroup that
// is not there, and the removal of one whose children hold tasks
// (AddTask).
type Fake struct {
	mu      sync.Mutex
	version int
	groups  map[string]ResourceConfig
	tasks   map[string]int
}

var _ Cgroups = &Fake{}

// NewFake is an empty tree of that cgroup version (1 or 2).
func NewFake(version int) *Fake {
	return &Fake{version: version, groups: map[string]ResourceConfig{}, tasks: map[string]int{}}
}

// Version implements Cgroups.
func (f *Fake) Version() int { return f.version }

// Create implements Cgroups; parents are made too.
func (f *Fake) Create(p string, rc *ResourceConfig) error {
	if err := validPath(p); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for q := p; q != "/"; q = path.Dir(q) {
		if _, ok := f.groups[q]; !ok {
			f.groups[q] = ResourceConfig{}
		}
	}
	f.apply(p, rc)
	return nil
}

// Update implements Cgroups.
func (f *Fake) Update(p string, rc *ResourceConfig) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.groups[p]; !ok {
		return fmt.Errorf("cgroup %s: no such cgroup", p)
	}
	f.apply(p, rc)
	return nil
}

// apply merges the set fields of rc into the cgroup's limits.
func (f *Fake) apply(p string, rc *ResourceConfig) {
	if rc == nil {
		return
	}
	cur := f.groups[p]
	merge(&cur.CPUShares, rc.CPUShares)
	merge(&cur.CPUQuota, rc.CPUQuota)
	merge(&cur.CPUPeriod, rc.CPUPeriod)
	merge(&cur.Memory, rc.Memory)
	merge(&cur.MemoryMin, rc.MemoryMin)
	merge(&cur.PidsLimit, rc.PidsLimit)
	f.groups[p] = cur
}

func merge[T any](dst **T, src *T) {
	if src != nil {
		v := *src
		*dst = &v
	}
}

// Exists implements Cgroups.
func (f *Fake) Exists(p string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.groups[p]
	return ok
}

// Destroy implements Cgroups.
func (f *Fake) Destroy(p string) error {
	if err := validPath(p); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for q := range f.groups {
		if (q == p || strings.HasPrefix(q, p+"/")) && f.tasks[q] > 0 {
			return fmt.Errorf("rmdir %s: device or resource busy", q)
		}
	}
	for q := range f.groups {
		if q == p || strings.HasPrefix(q, p+"/") {
			delete(f.groups, q)
		}
	}
	return nil
}

// Children implements Cgroups.
func (f *Fake) Children(p string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for q := range f.groups {
		if path.Dir(q) == p {
			out = append(out, path.Base(q))
		}
	}
	slices.Sort(out)
	return out, nil
}

// Get returns the cgroup's limits and whether it is there.
func (f *Fake) Get(p string) (ResourceConfig, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rc, ok := f.groups[p]
	return rc, ok
}

// Paths lists every cgroup, sorted.
func (f *Fake) Paths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.groups))
}

// AddTask puts n tasks in the cgroup, as a container runc started there.
func (f *Fake) AddTask(p string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tasks[p] += n
}
