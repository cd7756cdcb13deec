package localdriver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/nodeagent/nodeagent/volumes"
)

// Name is the driver's CSI name.
const Name = "local.nodeagent.io"

// The volumeAttributes (CSI volume context) the driver reads.
const (
	AttrBacking     = "backing"     // file, device or dir
	AttrSize        = "size"        // file: its size in bytes
	AttrPath        = "path"        // device, dir: the block device or directory
	AttrMkfsOptions = "mkfsOptions" // extra mkfs flags, space-separated
)

// The backings.
const (
	BackingFile   = "file"
	BackingDevice = "device"
	BackingDir    = "dir"
	// BackingLocal is a PV's spec.local.path: a device or a directory,
	// whichever the path is.
	BackingLocal = "local"
)

// DefaultFsType is the filesystem of a volume that names none.
const DefaultFsType = "ext4"

// Config is what the driver works with.
type Config struct {
	// BackingDir holds the files of file-backed volumes:
	// <BackingDir>/<volume handle>.img.
	BackingDir string
	Loop       volumes.Loop
	Formatter  volumes.Formatter
	Mounter    volumes.Mounter
	Log        *slog.Logger
	// Hold, when set, is called with each step of a stage once its record
	// is written and before the step begins. Tests only: a test stops the
	// driver there (kill -9 of the agent between format and mount).
	Hold func(ctx context.Context, volumeID string, step Step)
}

// Driver is the node plugin of local.nodeagent.io: volumes backed by a
// sparse file (attached as a loop device), a block device, or a
// directory of the node.
type Driver struct{ cfg Config }

var _ volumes.NodePlugin = &Driver{}

// New returns the driver.
func New(cfg Config) *Driver { return &Driver{cfg: cfg} }

// backing is a volume's backing as its attributes say.
type backing struct {
	kind string
	path string
	size int64
	mkfs []string
}

// parseBacking reads and checks the attributes.
func (d *Driver) parseBacking(id string, attrs map[string]string) (backing, error) {
	b := backing{kind: attrs[AttrBacking], mkfs: strings.Fields(attrs[AttrMkfsOptions])}
	switch b.kind {
	case BackingFile:
		if err := validHandle(id); err != nil {
			return b, err
		}
		size, err := strconv.ParseInt(attrs[AttrSize], 10, 64)
		if err != nil || size <= 0 {
			return b, fmt.Errorf("%w: volumeAttributes %s=%q: a positive number of bytes is required", volumes.ErrInvalidArgument, AttrSize, attrs[AttrSize])
		}
		b.size, b.path = size, d.backingFile(id)
	case BackingDevice, BackingDir, BackingLocal:
		b.path = attrs[AttrPath]
		if !strings.HasPrefix(b.path, "/") {
			return b, fmt.Errorf("%w: volumeAttributes %s=%q: an absolute path is required", volumes.ErrInvalidArgument, AttrPath, b.path)
		}
		if b.kind == BackingLocal {
			return b, b.localKind()
		}
	default:
		return b, fmt.Errorf("%w: volumeAttributes %s=%q: must be %s, %s or %s", volumes.ErrInvalidArgument, AttrBacking, b.kind, BackingFile, BackingDevice, BackingDir)
	}
	return b, nil
}

// localKind makes a local path's backing a device or a directory.
func (b *backing) localKind() error {
	st, err := os.Stat(b.path)
	switch {
	case err != nil:
		return fmt.Errorf("local volume path: %w", err)
	case st.IsDir():
		b.kind = BackingDir
	case st.Mode()&os.ModeDevice != 0 && st.Mode()&os.ModeCharDevice == 0:
		b.kind = BackingDevice
	default:
		return fmt.Errorf("%w: local volume path %s is neither a directory nor a block device", volumes.ErrInvalidArgument, b.path)
	}
	return nil
}

// validHandle accepts what can name a file: a file-backed volume's handle
// is its PV's name (a DNS subdomain).
func validHandle(id string) error {
	if err := volumes.ValidName(id); err != nil || len(id) > 253 || strings.HasPrefix(id, ".") {
		return fmt.Errorf("%w: volume handle %q cannot name a backing file", volumes.ErrInvalidArgument, id)
	}
	return nil
}

func (d *Driver) backingFile(id string) string {
	return d.cfg.BackingDir + "/" + id + ".img"
}

// hold records the step and gives a test its chance to stop there.
func (d *Driver) hold(ctx context.Context, staging string, r *record, step Step) error {
	r.Step = step
	if err := writeRecord(staging, r); err != nil {
		return fmt.Errorf("record stage step %s: %w", step, err)
	}
	if d.cfg.Hold != nil {
		d.cfg.Hold(ctx, r.VolumeID, step)
	}
	return ctx.Err()
}

// isNotExist is ENOENT behind any wrapping.
func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
