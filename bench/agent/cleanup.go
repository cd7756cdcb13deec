package main

import (
	"context"
	"time"

	"k8s.io/client-go/rest"

	"github.com/nodeagent/nodeagent/bench/internal/probe"
	"github.com/nodeagent/nodeagent/internal/cgroupfs"
	"github.com/nodeagent/nodeagent/internal/ctrdns"
)

const containerdAddress = "/run/nodeagent/containerd/containerd.sock"

// removeContainerdNamespace deletes every container, image and task left
// in containerd namespace ns, then the namespace, its cgroup tree and its
// run-state directories.
func removeContainerdNamespace(ns string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return ctrdns.Remove(ctx, containerdAddress, ns)
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
