package framework

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/snapshots"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"

	"github.com/nodeagent/nodeagent/internal/cgroupfs"
	"github.com/nodeagent/nodeagent/internal/ctrdns"
	"github.com/nodeagent/nodeagent/lab"
	"github.com/nodeagent/nodeagent/volumes"
)

// NodeDirs are the agent's state locations for one test, all in temp dirs
// or named after the lab so that nothing collides and Down finds leftovers.
type NodeDirs struct {
	Root, Logs, CNIConf, CNICache, IPAM string
	NetNSPrefix                         string
	Namespace                           string // containerd namespace
}

// NewNodeDirs makes the agent's directories and registers the removal of
// the test's containerd namespace and of the node's cgroups (after
// everything else has stopped).
func NewNodeDirs(t testing.TB, node *lab.Node, nodeName string) NodeDirs {
	t.Helper()
	dir := t.TempDir()
	d := NodeDirs{Root: filepath.Join(dir, "root"), Logs: filepath.Join(dir, "logs"), CNIConf: filepath.Join(dir, "net.d"),
		CNICache: filepath.Join(dir, "cni-cache"), IPAM: filepath.Join(dir, "ipam"),
		NetNSPrefix: node.Config().MemberName(""), Namespace: UniqueName("e2e-")}
	t.Cleanup(func() {
		CleanupContainerd(t, d.Namespace)
		RemoveNodeCgroups(nodeName)
		// The volume mounts (secret tmpfs, subPath binds) of pods still
		// running when the test stopped its agent, as their containers
		// above: unmounted before the temp dir goes, so that its removal
		// never goes into one. Tests that delete their pods check that the
		// agent removed them itself.
		for _, m := range MountsUnder(d.Root) {
			unix.Unmount(m, unix.MNT_DETACH)
		}
		// Then the loop devices of the volumes' backing files (a device
		// still mounted somewhere is detached at its last close).
		for _, dev := range LoopsUnder(d.Root) {
			volumes.SystemLoop{}.Detach(dev)
		}
	})
	return d
}

// MountsUnder lists the mount points at or beneath dir, deepest first.
func MountsUnder(dir string) []string {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil
	}
	infos, _ := mountinfo.GetMounts(mountinfo.PrefixFilter(real))
	var out []string
	for _, m := range infos {
		out = append(out, m.Mountpoint)
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// LoopsUnder lists the loop devices whose backing file is beneath dir.
func LoopsUnder(dir string) []string {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil
	}
	all, _ := volumes.SystemLoop{}.List()
	var out []string
	for dev, file := range all {
		if strings.HasPrefix(file, real+"/") {
			out = append(out, dev)
		}
	}
	sort.Strings(out)
	return out
}

// testEvictionHard is the e2e agents' hard eviction thresholds: kubelet's
// memory threshold, and disk thresholds of 1 %. The test nodes share the
// host's disk; kubelet's 10 % and 15 % would put every test node under
// DiskPressure (refusing every pod) on a host disk more than 85 % full,
// which tests nothing. The eviction tests add their own thresholds (a later
// --eviction-hard adds to the map).
const testEvictionHard = "memory.available<100Mi,nodefs.available<1%,nodefs.inodesFree<1%,imagefs.available<1%,imagefs.inodesFree<1%"

// AgentArgs are the agent flags that put its state in d.
func (d NodeDirs) AgentArgs(nodeName string) []string {
	return []string{"--node-name", nodeName, "--root-dir", d.Root, "--pod-log-dir", d.Logs,
		"--cni-conf-dir", d.CNIConf, "--cni-cache-dir", d.CNICache, "--cni-ipam-dir", d.IPAM,
		"--netns-prefix", d.NetNSPrefix, "--containerd-namespace", d.Namespace, "--pleg-relist-period", "10s",
		"--eviction-hard", testEvictionHard}
}

// CleanupContainerd removes every task, container, image and snapshot of
// the containerd namespace, then the namespace and what containerd keeps
// of it on disk.
func CleanupContainerd(t testing.TB, ns string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ctrdns.Remove(ctx, ContainerdAddress(), ns); err != nil {
		t.Errorf("cleanup containerd namespace %s: %v", ns, err)
	}
}

// ContainerdLeftovers lists the containers and snapshots in namespace ns.
func ContainerdLeftovers(ns string) ([]string, error) {
	c, err := containerd.New(ContainerdAddress())
	if err != nil {
		return nil, err
	}
	defer c.Close()
	ctx := namespaces.WithNamespace(context.Background(), ns)
	var out []string
	cs, err := c.Containers(ctx)
	if err != nil {
		return nil, err
	}
	for _, ct := range cs {
		out = append(out, "container "+ct.ID())
	}
	err = c.SnapshotService("overlayfs").Walk(ctx, func(_ context.Context, info snapshots.Info) error {
		if info.Kind == snapshots.KindActive {
			out = append(out, "snapshot "+info.Name)
		}
		return nil
	})
	return out, err
}

// PodCgroups lists the per-pod cgroup directories of node: below its QoS
// tiers /nodeagent/<node>/kubepods[/burstable|/besteffort], and where
// pods went before those (/nodeagent/<node>).
func PodCgroups(node string) []string {
	var out []string
	for _, tier := range []string{"", "/kubepods", "/kubepods/burstable", "/kubepods/besteffort"} {
		dirs, _ := filepath.Glob("/sys/fs/cgroup/*/nodeagent/" + node + tier + "/pod*")
		out = append(out, dirs...)
	}
	return out
}

// RemoveNodeCgroups removes the (empty) cgroups of node's pods and of the
// node, which a test that stops its agent without deleting its pods leaves.
func RemoveNodeCgroups(node string) {
	RemoveCgroupTree("nodeagent/" + node)
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/nodeagent")
	for _, d := range dirs {
		os.Remove(d) // only when empty: another node's pods keep it
	}
}

// RemoveNamespaceState removes what containerd keeps of namespace ns
// outside its database: its cgroup tree and its run-state directories.
func RemoveNamespaceState(ns string) {
	RemoveCgroupTree(ns)
	ctrdns.RemoveState(ns)
}

// RemoveCgroupTree removes the (task-free) cgroup at path, relative to each
// hierarchy's root, with its children: containerd puts containers made
// without a cgroup parent under /<namespace>/<id> and leaves /<namespace>.
func RemoveCgroupTree(path string) { cgroupfs.RemoveTree(cgroupfs.Root, path) }

// NetNSWithPrefix lists the pinned network namespaces whose name starts with prefix.
func NetNSWithPrefix(prefix string) []string {
	entries, _ := os.ReadDir("/var/run/netns")
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

// IPReservations lists the host-local reservations under dir.
func IPReservations(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.Count(e.Name(), ".") == 3 {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// ContainerPids lists "id=pid" for every task in containerd namespace ns.
func ContainerPids(t testing.TB, ns string) []string {
	t.Helper()
	c, err := containerd.New(ContainerdAddress())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := namespaces.WithNamespace(context.Background(), ns)
	cs, err := c.Containers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ct := range cs {
		if task, err := ct.Task(ctx, nil); err == nil {
			out = append(out, ct.ID()+"="+strconv.Itoa(int(task.Pid())))
		}
	}
	sort.Strings(out)
	return out
}
