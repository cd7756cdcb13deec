package agent

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nodeagent/nodeagent/internal/cgroupfs"
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
		for _, d := range cgroupfs.Dirs(cgroupRoot, p) {
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
func rmCgroup(path string) error { return cgroupfs.RemoveTree(cgroupRoot, path) }

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
	return a.onlyValidUIDs(out, "cgroup")
}
