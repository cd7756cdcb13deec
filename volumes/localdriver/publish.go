package localdriver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/nodeagent/nodeagent/volumes"
)

// NodePublishVolume binds the staged volume onto the target path, a
// directory it makes (read-only when asked): the staging path's
// filesystem, the directory of a dir-backed volume, or for a block volume
// the device node, onto a file. A target with the mount already there is
// left as it is.
func (d *Driver) NodePublishVolume(ctx context.Context, req *volumes.NodePublishVolumeRequest) error {
	r, err := readRecord(req.StagingTargetPath)
	if err != nil {
		return err
	}
	if r == nil || r.Step != StepStaged {
		return fmt.Errorf("volume %s is not staged at %s", req.VolumeID, req.StagingTargetPath)
	}
	if r.Block != req.VolumeCapability.Block {
		return fmt.Errorf("%w: volume %s is staged with block %v, published with block %v", volumes.ErrInvalidArgument, req.VolumeID, r.Block, req.VolumeCapability.Block)
	}
	if src, err := d.cfg.Mounter.Source(req.TargetPath); err != nil || src != "" {
		return err // published already
	}
	source, err := d.publishSource(r, req.StagingTargetPath)
	if err != nil {
		return err
	}
	return d.bind(source, req.TargetPath, r.Block, req.Readonly)
}

// publishSource is what a publish binds.
func (d *Driver) publishSource(r *record, staging string) (string, error) {
	switch {
	case r.Backing == BackingDir:
		return r.Path, nil
	case r.Block && r.Backing == BackingDevice:
		return r.Path, checkBlockDevice(r.Path)
	case r.Block:
		devs, err := d.cfg.Loop.Find(r.Path)
		if err == nil && len(devs) != 1 {
			err = fmt.Errorf("volume %s: %s is attached to %d loop devices, want 1", r.VolumeID, r.Path, len(devs))
		}
		if err != nil {
			return "", err
		}
		return devs[0], nil
	}
	if src, err := d.cfg.Mounter.Source(staging); err != nil || src == "" {
		return "", errors.Join(err, fmt.Errorf("volume %s: nothing is mounted at its staging path %s", r.VolumeID, staging))
	}
	return staging, nil
}

// bind makes the target (a directory, or an empty file for a device) in
// its existing parent, following no symlink, and binds source onto it.
func (d *Driver) bind(source, target string, file, readOnly bool) error {
	parent, err := volumes.OpenTrusted(filepath.Dir(target))
	if err != nil {
		return err
	}
	defer parent.Close()
	dst, err := volumes.MakeTarget(parent, filepath.Base(target), !file)
	if err != nil {
		return err
	}
	defer dst.Close()
	src, err := os.OpenFile(source, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer src.Close()
	if readOnly {
		return d.cfg.Mounter.BindReadOnly(src, dst)
	}
	return d.cfg.Mounter.Bind(src, dst)
}

// NodeUnpublishVolume unmounts the target and removes it (never going
// into a mount). A missing target is not an error.
func (d *Driver) NodeUnpublishVolume(ctx context.Context, req *volumes.NodeUnpublishVolumeRequest) error {
	if err := d.unmountAll(req.TargetPath); err != nil {
		return err
	}
	return volumes.RemoveUnmounted(req.TargetPath)
}
