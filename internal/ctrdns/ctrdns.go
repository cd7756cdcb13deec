// Package ctrdns removes a containerd namespace with everything in it,
// and what containerd keeps of it outside its database: the tests' and
// the benchmarks' cleanup path.
package ctrdns

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/errdefs"

	"github.com/nodeagent/nodeagent/internal/cgroupfs"
)

// Where nodeagent's containerd keeps per-namespace directories (the paths
// of hack/lib.sh): its state and runc's under RunDir, its root under RootDir.
const (
	RunDir  = "/run/nodeagent"
	RootDir = "/var/lib/nodeagent/containerd"
)

// Remove kills and deletes every task, container (with its snapshot) and
// image of namespace ns in the containerd at address, deletes the
// namespace (retrying while containerd still holds it, until ctx ends),
// then, best effort, its cgroup tree and its per-namespace directories.
// Only a namespace that cannot be deleted is an error.
func Remove(ctx context.Context, address, ns string) error {
	c, err := containerd.New(address)
	if err != nil {
		return fmt.Errorf("containerd: %w", err)
	}
	defer c.Close()
	ctx = namespaces.WithNamespace(ctx, ns)
	if cs, err := c.Containers(ctx); err == nil {
		for _, ct := range cs {
			if task, err := ct.Task(ctx, nil); err == nil {
				task.Delete(ctx, containerd.WithProcessKill)
			}
			ct.Delete(ctx, containerd.WithSnapshotCleanup)
		}
	}
	if imgs, err := c.ImageService().List(ctx); err == nil {
		for _, img := range imgs {
			c.ImageService().Delete(ctx, img.Name, images.SynchronousDelete())
		}
	}
	if err := deleteNamespace(ctx, c, ns); err != nil {
		return err
	}
	cgroupfs.RemoveTree(cgroupfs.Root, ns)
	RemoveState(ns)
	return nil
}

func deleteNamespace(ctx context.Context, c *containerd.Client, ns string) error {
	for {
		err := c.NamespaceService().Delete(ctx, ns)
		if err == nil || errdefs.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("delete containerd namespace %s: %w", ns, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// RemoveState removes the (empty) per-namespace directories that
// containerd, its shims and runc keep; ones still in use stay.
func RemoveState(ns string) {
	for _, d := range []string{
		filepath.Join(RunDir, "containerd/state/io.containerd.runtime.v2.task", ns),
		filepath.Join(RunDir, "runc", ns),
		filepath.Join(RootDir, "io.containerd.runtime.v2.task", ns),
	} {
		os.Remove(d)
	}
}
