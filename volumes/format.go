package volumes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Formatter finds and makes filesystems on block devices: the kernel edge
// that may destroy data, so it formats only what Probe found empty.
type Formatter interface {
	// Probe returns the filesystem type on dev ("" when it holds no known
	// signature at all). A partition table, or any other signature that is
	// not a filesystem, is an error: such a device is never formatted.
	Probe(ctx context.Context, dev string) (string, error)
	// Format makes a filesystem of fsType (ext4, ext3 or xfs) on dev,
	// with the extra mkfs options. Callers Probe first.
	Format(ctx context.Context, dev, fsType string, options []string) error
}

// ErrNotEmpty says that a device holds data that is not a filesystem (a
// partition table, a RAID member...): it is neither formatted nor mounted.
var ErrNotEmpty = errors.New("the device holds data that is not a filesystem")

// FormatTypes are the filesystem types Format makes.
var FormatTypes = []string{"ext4", "ext3", "xfs"}

// SystemFormatter runs blkid(8) and mkfs(8) from util-linux, e2fsprogs
// and xfsprogs.
type SystemFormatter struct{}

var _ Formatter = SystemFormatter{}

// Probe runs `blkid -p` (a low-level probe of the device itself, not the
// cache): exit 2 means no signature was found.
func (SystemFormatter) Probe(ctx context.Context, dev string) (string, error) {
	out, err := exec.CommandContext(ctx, "blkid", "-p", "-s", "TYPE", "-s", "PTTYPE", "-o", "export", dev).Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 2 {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("blkid -p %s: %w%s", dev, err, stderrOf(err))
	}
	return parseBlkid(dev, out)
}

// parseBlkid reads blkid's export format: TYPE= (a filesystem or other
// signature) and PTTYPE= (a partition table).
func parseBlkid(dev string, out []byte) (string, error) {
	fields := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			fields[k] = v
		}
	}
	if pt := fields["PTTYPE"]; pt != "" {
		return "", fmt.Errorf("%s: %w: a %s partition table", dev, ErrNotEmpty, pt)
	}
	typ := fields["TYPE"]
	if typ == "" {
		return "", fmt.Errorf("%s: %w: blkid found a signature of no type", dev, ErrNotEmpty)
	}
	if strings.HasSuffix(typ, "_member") || typ == "swap" || typ == "crypto_LUKS" {
		return "", fmt.Errorf("%s: %w: a %s signature", dev, ErrNotEmpty, typ)
	}
	return typ, nil
}

// Format runs mkfs.<fsType>: ext3 and ext4 with -m0 (no blocks reserved
// for root, as kubelet formats) and lazy inode table init, xfs with its
// defaults. No option that forces over an existing signature is given:
// mkfs.xfs then refuses a device that holds one, a second guard after
// Probe. stdin is empty, so mke2fs never waits for an answer.
func (SystemFormatter) Format(ctx context.Context, dev, fsType string, options []string) error {
	args, err := mkfsArgs(fsType, options)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "mkfs."+fsType, append(args, dev)...)
	cmd.Stdin = bytes.NewReader(nil)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("mkfs.%s %s: %w: %s", fsType, dev, err, bytes.TrimSpace(out))
	}
	return nil
}

// mkfsArgs are the arguments before the device. Options that are not
// flags (a second device, a size) are refused: the device is always the
// last argument and the whole device is formatted.
func mkfsArgs(fsType string, options []string) ([]string, error) {
	var args []string
	switch fsType {
	case "ext3", "ext4":
		args = []string{"-q", "-m0", "-E", "lazy_itable_init=1,lazy_journal_init=1"}
	case "xfs":
		args = []string{"-q"}
	default:
		return nil, fmt.Errorf("cannot format %q: the agent formats %s", fsType, strings.Join(FormatTypes, ", "))
	}
	for i, o := range options {
		if !strings.HasPrefix(o, "-") && (i == 0 || !strings.HasPrefix(options[i-1], "-")) {
			return nil, fmt.Errorf("mkfs option %q: only flags and their values may be given", o)
		}
		if o == "-f" || o == "-F" || o == "--force" {
			return nil, fmt.Errorf("mkfs option %q: formatting over a signature is never forced", o)
		}
	}
	return append(args, options...), nil
}

func stderrOf(err error) string {
	var exit *exec.ExitError
	if errors.As(err, &exit) && len(exit.Stderr) > 0 {
		return ": " + string(bytes.TrimSpace(exit.Stderr))
	}
	return ""
}
