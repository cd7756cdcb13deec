package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// cgroupRoot is where the cgroup hierarchies are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// podCgroup is the pod's cgroup parent, /nodeagent/<node>/pod<uid>; its
// containers go below it. The node's name keeps agents of several lab
// nodes on one machine apart.
func (a *Agent) podCgroup(uid string) string { return "/nodeagent/" + a.cfg.NodeName + "/pod" + uid }

// removeNodeCgroups removes the node's cgroup /nodeagent/<node> and
// /nodeagent itself once they are empty (rmdir refuses a cgroup that still
// has children or tasks, such as another lab node's pods).
func removeNodeCgroups(node string) {
	for _, p := range []string{"/nodeagent/" + node, "/nodeagent"} {
		dirs, _ := filepath.Glob(filepath.Join(cgroupRoot, "*", p))
		if v2 := filepath.Join(cgroupRoot, p); exists(v2) {
			dirs = append(dirs, v2)
		}
		for _, d := range dirs {
			os.Remove(d)
		}
	}
}

// removePodCgroup removes the pod's (then empty) cgroup directories in
// every hierarchy. Right after its last task is deleted the kernel may
// still hold the cgroup busy for a moment, so it tries for a few seconds.
func (a *Agent) removePodCgroup(uid string) error {
	var err error
	for deadline := time.Now().Add(3 * time.Second); ; {
		if err = rmCgroup(a.podCgroup(uid)); err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rmCgroup removes the cgroup at path in every hierarchy, with the
// (task-free) child cgroups that runc leaves in some hierarchies.
func rmCgroup(path string) error {
	dirs, err := filepath.Glob(filepath.Join(cgroupRoot, "*", path))
	if err != nil {
		return err
	}
	if v2 := filepath.Join(cgroupRoot, path); exists(v2) {
		dirs = append(dirs, v2)
	}
	var errs []error
	for _, d := range dirs {
		errs = append(errs, rmTree(d))
	}
	return errors.Join(errs...)
}

// rmTree removes a cgroup directory and its child cgroups, deepest first
// (cgroup directories are removed with rmdir; their files go with them).
func rmTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := rmTree(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// podCgroupUIDs lists the UIDs of this node's pods that have a cgroup.
func (a *Agent) podCgroupUIDs() []string {
	dirs, _ := filepath.Glob(filepath.Join(cgroupRoot, "*", "nodeagent", a.cfg.NodeName, "pod*"))
	seen := map[string]bool{}
	var out []string
	for _, d := range dirs {
		uid := strings.TrimPrefix(filepath.Base(d), "pod")
		if !seen[uid] {
			seen[uid] = true
			out = append(out, uid)
		}
	}
	return out
}
