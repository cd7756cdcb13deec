package localdriver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/nodeagent/nodeagent/volumes"
)

// NodeStageVolume makes the volume ready at the staging path, once per
// node: the backing file made and attached as a loop device, an empty
// device formatted, the filesystem mounted at the staging path. A block
// volume is only attached. Each step is recorded before it begins;
// called again (after an error, a restart, a crash) it finds what is done
// and carries on. It formats only a device in which blkid finds no
// signature at all, and never one it recorded as formatted.
func (d *Driver) NodeStageVolume(ctx context.Context, req *volumes.NodeStageVolumeRequest) error {
	b, err := d.parseBacking(req.VolumeID, req.VolumeContext)
	if err != nil {
		return err
	}
	r, err := d.stageRecord(req, b)
	if err != nil {
		return err
	}
	if r.Step == StepStaged && d.stillStaged(r, req.StagingTargetPath) {
		return nil
	}
	if b.kind == BackingDir {
		return d.stageDir(ctx, req, r, b)
	}
	if err := d.hold(ctx, req.StagingTargetPath, r, StepAttach); err != nil {
		return err
	}
	dev, err := d.attach(b)
	if err != nil {
		return err
	}
	r.Loop = dev
	if r.Block {
		return d.hold(ctx, req.StagingTargetPath, r, StepStaged)
	}
	if err := d.formatIfEmpty(ctx, req.StagingTargetPath, r, dev, b.mkfs); err != nil {
		return err
	}
	if err := d.hold(ctx, req.StagingTargetPath, r, StepMount); err != nil {
		return err
	}
	if err := d.mountStaging(dev, req.StagingTargetPath, r.FsType, req.VolumeCapability.MountFlags); err != nil {
		return err
	}
	return d.hold(ctx, req.StagingTargetPath, r, StepStaged)
}

// stageRecord reads the volume's record, or starts one. A record of
// another backing is refused: the volume's spec changed under a staged
// volume.
func (d *Driver) stageRecord(req *volumes.NodeStageVolumeRequest, b backing) (*record, error) {
	r, err := readRecord(req.StagingTargetPath)
	if err != nil {
		return nil, err
	}
	fsType := req.VolumeCapability.FsType
	if fsType == "" {
		fsType = DefaultFsType
	}
	want := record{VolumeID: req.VolumeID, Backing: b.kind, Path: b.path, FsType: fsType, Block: req.VolumeCapability.Block}
	if r == nil {
		return &want, nil
	}
	if r.VolumeID != want.VolumeID || r.Backing != want.Backing || r.Path != want.Path || r.Block != want.Block {
		return nil, fmt.Errorf("%w: volume %s is staged as %s %s (block %v), not as %s %s (block %v): unstage it first",
			volumes.ErrInvalidArgument, req.VolumeID, r.Backing, r.Path, r.Block, b.kind, b.path, want.Block)
	}
	r.FsType = fsType
	return r, nil
}

// stillStaged checks a volume recorded as staged: a block volume's loop
// device is still attached, a filesystem still mounted at the staging
// path (a reboot ends both).
func (d *Driver) stillStaged(r *record, staging string) bool {
	switch {
	case r.Backing == BackingDir:
		return true
	case r.Block && r.Backing == BackingDevice:
		return true
	case r.Block:
		devs, err := d.cfg.Loop.Find(r.Path)
		return err == nil && len(devs) == 1
	}
	src, err := d.cfg.Mounter.Source(staging)
	return err == nil && src != ""
}

// stageDir: a directory needs nothing at the staging path; its publish
// binds the directory itself.
func (d *Driver) stageDir(ctx context.Context, req *volumes.NodeStageVolumeRequest, r *record, b backing) error {
	if r.Block {
		return fmt.Errorf("%w: a directory cannot be a block volume", volumes.ErrInvalidArgument)
	}
	st, err := os.Stat(b.path)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%w: %s is not a directory", volumes.ErrInvalidArgument, b.path)
	}
	return d.hold(ctx, req.StagingTargetPath, r, StepStaged)
}

// attach returns the volume's block device: the device itself, or the
// backing file (made sparse if missing) attached to a loop device, the
// one it is attached to already if any.
func (d *Driver) attach(b backing) (string, error) {
	if b.kind == BackingDevice {
		return b.path, checkBlockDevice(b.path)
	}
	if err := d.ensureBackingFile(b); err != nil {
		return "", err
	}
	devs, err := d.cfg.Loop.Find(b.path)
	if err != nil {
		return "", err
	}
	switch len(devs) {
	case 0:
		return d.cfg.Loop.Attach(b.path)
	case 1:
		return devs[0], nil
	}
	return "", fmt.Errorf("%s is attached to several loop devices (%v): detach all but one", b.path, devs)
}

func checkBlockDevice(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if st.Mode()&os.ModeDevice == 0 || st.Mode()&os.ModeCharDevice != 0 {
		return fmt.Errorf("%w: %s is not a block device", volumes.ErrInvalidArgument, p)
	}
	return nil
}

// ensureBackingFile makes the backing file, sparse, of the volume's size,
// if it does not exist; an existing one is kept as it is (its data is the
// volume's), but it must be a regular file (not a symlink).
func (d *Driver) ensureBackingFile(b backing) error {
	if err := os.MkdirAll(d.cfg.BackingDir, 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(b.path, os.O_RDWR|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if errors.Is(err, os.ErrExist) {
		st, err := os.Lstat(b.path)
		if err == nil && !st.Mode().IsRegular() {
			err = fmt.Errorf("backing file %s is not a regular file", b.path)
		}
		return err
	}
	if err != nil {
		return err
	}
	err = errors.Join(f.Truncate(b.size), f.Sync(), f.Close())
	if err != nil {
		os.Remove(b.path) // an empty file of the wrong size: made again
		return err
	}
	d.cfg.Log.Info("created a volume's backing file", "file", b.path, "bytes", b.size)
	return nil
}

// formatIfEmpty probes the device and formats it only when it holds no
// signature and was never recorded as formatted. A filesystem of another
// type than asked is an error: it is neither formatted nor mounted.
func (d *Driver) formatIfEmpty(ctx context.Context, staging string, r *record, dev string, mkfs []string) error {
	if err := d.hold(ctx, staging, r, StepFormat); err != nil {
		return err
	}
	found, err := d.cfg.Formatter.Probe(ctx, dev)
	if err != nil {
		return err
	}
	switch {
	case found == "" && r.Formatted:
		return fmt.Errorf("volume %s was formatted as %s before, but blkid finds no filesystem on %s now: refusing to format it again", r.VolumeID, r.FsType, dev)
	case found == "":
		if !slices.Contains(volumes.FormatTypes, r.FsType) {
			return fmt.Errorf("%w: cannot format %s as %q", volumes.ErrInvalidArgument, dev, r.FsType)
		}
		d.cfg.Log.Info("formatting a volume", "volume", r.VolumeID, "device", dev, "fsType", r.FsType)
		if err := d.cfg.Formatter.Format(ctx, dev, r.FsType, mkfs); err != nil {
			return err
		}
	case found != r.FsType:
		return fmt.Errorf("%w: %s holds a %s filesystem, the volume asks for %s: it is neither formatted nor mounted", volumes.ErrInvalidArgument, dev, found, r.FsType)
	}
	r.Formatted = true
	return nil
}

// mountStaging mounts the device at the staging path unless it is there.
func (d *Driver) mountStaging(dev, staging, fsType string, flags []string) error {
	src, err := d.cfg.Mounter.Source(staging)
	if err != nil {
		return err
	}
	if src == dev {
		return nil
	}
	if src != "" {
		return fmt.Errorf("staging path %s has %s mounted, not %s", staging, src, dev)
	}
	if err := os.MkdirAll(staging, 0o750); err != nil {
		return err
	}
	dir, err := volumes.OpenTrusted(staging)
	if err != nil {
		return err
	}
	defer dir.Close()
	return d.cfg.Mounter.MountDevice(dev, dir, fsType, flags)
}

// NodeUnstageVolume undoes the stage in reverse: unmount the staging
// path, detach the loop devices of the backing file (found by the file,
// never by a recorded number: after a reboot that may be another's),
// remove the record. The backing file and its data stay; the staging
// directory is the caller's to remove. Nothing staged is not an error.
func (d *Driver) NodeUnstageVolume(ctx context.Context, req *volumes.NodeUnstageVolumeRequest) error {
	r, err := readRecord(req.StagingTargetPath)
	if err != nil {
		return err
	}
	if err := d.unmountAll(req.StagingTargetPath); err != nil {
		return err
	}
	if r != nil && r.Backing == BackingFile {
		if err := d.detachFile(r.Path); err != nil {
			return err
		}
	}
	return removeRecord(req.StagingTargetPath)
}

// unmountAll unmounts what is mounted at path (a mount stacked twice
// included) and checks that nothing is left.
func (d *Driver) unmountAll(path string) error {
	for range 8 {
		src, err := d.cfg.Mounter.Source(path)
		if err != nil || src == "" {
			return err
		}
		if err := d.cfg.Mounter.Unmount(path); err != nil {
			return err
		}
	}
	return fmt.Errorf("%w: %s stays mounted", volumes.ErrMounted, path)
}

func (d *Driver) detachFile(path string) error {
	devs, err := d.cfg.Loop.Find(path)
	if isNotExist(err) {
		return nil // no file, no device backed by it
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, dev := range devs {
		errs = append(errs, d.cfg.Loop.Detach(dev))
	}
	return errors.Join(errs...)
}

// Cleanup detaches the loop devices of every backing file, staged or not
// (a record lost, a crash between attach and record): `agent --cleanup`
// runs it after unstaging everything. The files stay.
func (d *Driver) Cleanup(context.Context) error {
	files, err := filepath.Glob(filepath.Join(d.cfg.BackingDir, "*.img"))
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range files {
		errs = append(errs, d.detachFile(f))
	}
	return errors.Join(errs...)
}
