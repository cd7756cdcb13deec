package agent

import (
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/agent/cm"
	"github.com/nodeagent/nodeagent/internal/cgroupfs"
)

// cgroupRoot is where the cgroup hierarchies are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// nodeCgroup is the node's own cgroup, /nodeagent/<node>: its QoS tree
// and pods go below it (agent/cm). The node's name keeps agents of
// several lab nodes on one machine apart.
func nodeCgroup(node string) string { return "/nodeagent/" + node }

// newContainerManager is the node's cgroup manager (agent/cm) on cg, the
// hierarchy at CgroupMount unless WithCgroups gave another, with the
// machine's capacity and the configured reservations.
func (a *Agent) newContainerManager(cg cm.Cgroups) *cm.Manager {
	if cg == nil {
		cg = cm.DetectCgroups(a.cfg.Resources.CgroupMount)
	}
	os.MkdirAll(a.cfg.RootDir, 0o750) // statfs'ed for the capacity
	r, capacity := a.cfg.Resources, cm.ReadCapacity(procRoot, a.cfg.RootDir)
	return cm.New(cm.Config{Root: nodeCgroup(a.cfg.NodeName), Capacity: capacity,
		Reservation: cm.Reservation{SystemReserved: r.SystemReserved, KubeReserved: r.KubeReserved, HardEviction: a.hardEvictionReserve(capacity)}},
		cg, a.log.With("component", "cm"))
}

// startContainerManager makes the QoS cgroups and says which cgroup
// version and driver the node runs.
func (a *Agent) startContainerManager() error {
	driver := a.cfg.Resources.CgroupDriver
	if driver == "" {
		driver = cm.DetectDriver("/run")
	}
	a.log.Info("cgroups: " + a.cm.Describe(driver))
	return a.cm.Start()
}

// podCgroup is the cgroup the pod with this uid has (where its QoS class
// put it); when it has none, a path below the node's that is not there
// either (never "", which would be the root's: the whole node).
func (a *Agent) podCgroup(uid string) string {
	if p, ok := a.cm.PodCgroup(uid); ok {
		return p
	}
	return a.cm.Layout().PodCandidates(uid)[0]
}

// ensurePodCgroup makes the pod's cgroup with its limits below its QoS
// tier, and returns it: its sandbox's cgroup parent.
func (a *Agent) ensurePodCgroup(pod *corev1.Pod) (string, error) { return a.cm.EnsurePod(pod) }

// legacyPodCgroup is where pods went before the QoS tree
// (/nodeagent/<node>/pod<uid>): a pod adopted from then is torn down
// there.
func (a *Agent) legacyPodCgroup(uid string) string { return nodeCgroup(a.cfg.NodeName) + "/pod" + uid }

// removeNodeCgroups removes the node's cgroup /nodeagent/<node> and
// /nodeagent itself once they are empty (rmdir refuses a cgroup that still
// has children or tasks, such as another lab node's pods).
func removeNodeCgroups(node string) {
	cgroupfs.RemoveTree(cgroupRoot, nodeCgroup(node))
	for _, d := range cgroupfs.Dirs(cgroupRoot, "/nodeagent") {
		os.Remove(d)
	}
}

// removePodCgroup removes the pod's (then empty) cgroup. Right after its
// last task is deleted the kernel may still hold the cgroup busy for a
// moment, so it tries for a few seconds.
func (a *Agent) removePodCgroup(uid string) error {
	var err error
	for deadline := time.Now().Add(3 * time.Second); ; {
		if err = a.cm.DestroyPod(uid); err == nil {
			err = a.cm.Cgroups().Destroy(a.legacyPodCgroup(uid))
		}
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// podCgroupUIDs lists the UIDs of this node's pods that have a cgroup.
func (a *Agent) podCgroupUIDs() []string {
	uids := a.cm.PodUIDs()
	legacy, _ := a.cm.Cgroups().Children(nodeCgroup(a.cfg.NodeName))
	for _, name := range legacy {
		if len(name) > 3 && name[:3] == "pod" {
			uids = append(uids, name[3:])
		}
	}
	return a.onlyValidUIDs(uids, "cgroup")
}

// updateQOSCgroups gives the burstable tier its pods' requests, after a
// pod started or stopped.
func (a *Agent) updateQOSCgroups() {
	if err := a.cm.UpdateQOS(a.activePods()); err != nil {
		a.log.Warn("QoS cgroups", "err", err)
	}
}
