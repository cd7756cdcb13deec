package main

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
	"k8s.io/client-go/rest"

	"github.com/nodeagent/nodeagent/bench/internal/probe"
	"github.com/nodeagent/nodeagent/internal/cgroupfs"
)

const containerdAddress = "/run/nodeagent/containerd/containerd.sock"

// removeContainerdNamespace deletes every container, image and task left
// in containerd namespace ns, then the namespace, its cgroup tree and its
// run-state directories.
func removeContainerdNamespace(ns string) error {
	c, err := containerd.New(containerdAddress)
	if err != nil {
		return fmt.Errorf("containerd: %w", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(namespaces.WithNamespace(context.Background(), ns), time.Minute)
	defer cancel()
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
	for {
		err = c.NamespaceService().Delete(ctx, ns)
		if err == nil || errdefs.IsNotFound(err) {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("delete containerd namespace %s: %w", ns, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	removeCgroupTree(ns)
	os.Remove(filepath.Join("/run/nodeagent/containerd/state/io.containerd.runtime.v2.task", ns))
	os.Remove(filepath.Join("/run/nodeagent/runc", ns))
	return nil
}

// removeCgroupTree removes the (task-free) cgroup at path in every
// hierarchy, children first.
func removeCgroupTree(path string) { cgroupfs.RemoveTree(cgroupfs.Root, path) }

// readyz asks the API server's /readyz through cfg's transport.
func readyz(ctx context.Context, cfg *rest.Config) error {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	defer hc.CloseIdleConnections()
	return probe.Readyz(ctx, hc, cfg.Host)
}
