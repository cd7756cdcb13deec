package containerd

import (
	"context"
	"fmt"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/plugins"
	"golang.org/x/sys/unix"

	"github.com/nodeagent/nodeagent/cri"
)

// ImageFsInfo implements cri.Runtime: the filesystem of the snapshotter's
// root directory, which containerd's introspection names (its content
// store is beside it, under containerd's root), as statfs reports it; the
// bytes the images take are the sizes of the namespace's content (the
// images as pulled, compressed; their unpacked snapshots are not counted).
func (r *Runtime) ImageFsInfo(ctx context.Context) (cri.FsInfo, error) {
	root, err := r.snapshotterRoot(ctx)
	if err != nil {
		return cri.FsInfo{}, err
	}
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err != nil {
		return cri.FsInfo{}, fmt.Errorf("image filesystem: statfs %s: %w", root, err)
	}
	used, err := r.contentSize(ctx)
	if err != nil {
		return cri.FsInfo{}, err
	}
	bsize := uint64(st.Bsize)
	return cri.FsInfo{Path: root, CapacityBytes: st.Blocks * bsize, AvailableBytes: st.Bavail * bsize,
		UsedBytes: used, Inodes: st.Files, InodesFree: st.Ffree}, nil
}

// snapshotterRoot asks containerd where the snapshotter keeps its data.
func (r *Runtime) snapshotterRoot(ctx context.Context) (string, error) {
	resp, err := r.client.IntrospectionService().Plugins(r.ns(ctx),
		fmt.Sprintf("type==%s,id==%s", plugins.SnapshotPlugin, r.cfg.Snapshotter))
	if err != nil {
		return "", fmt.Errorf("image filesystem: introspect snapshotter %s: %w", r.cfg.Snapshotter, err)
	}
	for _, p := range resp.Plugins {
		if root := p.Exports[plugins.SnapshotterRootDir]; root != "" {
			return root, nil
		}
	}
	return "", fmt.Errorf("image filesystem: containerd names no root directory for snapshotter %s", r.cfg.Snapshotter)
}

// contentSize adds up the sizes of the namespace's content.
func (r *Runtime) contentSize(ctx context.Context) (uint64, error) {
	var total uint64
	err := r.client.ContentStore().Walk(r.ns(ctx), func(info content.Info) error {
		total += uint64(max(info.Size, 0))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("image filesystem: walk content: %w", err)
	}
	return total, nil
}
