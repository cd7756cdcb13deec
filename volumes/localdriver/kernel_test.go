package localdriver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nodeagent/nodeagent/volumes"
)

// The driver on the kernel: real loop devices on files in the test's temp
// directory, real mkfs and mounts in the host's mount namespace. Whatever
// a test leaves (it fails midway) is unmounted and detached when it ends.

// countingFormatter counts formats.
type countingFormatter struct {
	volumes.Formatter
	n int
}

func (c *countingFormatter) Format(ctx context.Context, dev, fsType string, opts []string) error {
	c.n++
	return c.Formatter.Format(ctx, dev, fsType, opts)
}

type kernel struct {
	dir string
	fmt *countingFormatter
}

func newKernel(t *testing.T) *kernel {
	if os.Geteuid() != 0 {
		t.Skip("needs root for loop devices and mounts")
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		t.Skip("no loop devices:", err)
	}
	k := &kernel{dir: resolved(t, t.TempDir()), fmt: &countingFormatter{Formatter: volumes.SystemFormatter{}}}
	t.Cleanup(func() { cleanupKernel(t, k.dir) })
	return k
}

// cleanupKernel unmounts what is mounted beneath dir and detaches the
// loop devices of files beneath it.
func cleanupKernel(t *testing.T, dir string) {
	mounts, _ := volumes.System{}.List(dir)
	for _, m := range mounts {
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil {
			t.Errorf("cleanup: unmount %s: %v", m, err)
		}
	}
	devs, _ := volumes.SystemLoop{}.List()
	for dev, file := range devs {
		if strings.HasPrefix(file, dir+"/") {
			if err := (volumes.SystemLoop{}).Detach(dev); err != nil {
				t.Errorf("cleanup: detach %s: %v", dev, err)
			}
		}
	}
}

func (k *kernel) driver(hold func(context.Context, string, Step)) *Driver {
	return New(Config{BackingDir: filepath.Join(k.dir, "volumes-backing"), Loop: volumes.SystemLoop{}, Formatter: k.fmt,
		Mounter: volumes.System{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Hold: hold})
}

func (k *kernel) volume(t *testing.T, id, fsType string, size string, block bool) vol {
	f := &fakes{dir: k.dir}
	v := f.fileVolume(t, id, block)
	v.attrs[AttrSize] = size
	v.capability.FsType = fsType
	return v
}

func (k *kernel) target(t *testing.T, pod string) string {
	return (&fakes{dir: k.dir}).podTarget(t, pod)
}

// loopsOf lists the loop devices of files beneath the test's directory.
func (k *kernel) loopsOf() []string {
	devs, _ := volumes.SystemLoop{}.List()
	var out []string
	for dev, file := range devs {
		if strings.HasPrefix(file, k.dir+"/") {
			out = append(out, dev)
		}
	}
	return out
}

func (k *kernel) assertClean(t *testing.T) {
	t.Helper()
	if mounts, _ := (volumes.System{}).List(k.dir); len(mounts) != 0 {
		t.Fatalf("mounts left: %v", mounts)
	}
	if devs := k.loopsOf(); len(devs) != 0 {
		t.Fatalf("loop devices left: %v", devs)
	}
}

// TestKernelFileVolumeKeepsData: an ext4 volume on a 256 MiB sparse file
// is formatted once; data written through one publish is read through
// another after unstage and a crash of the stage between format and
// mount; nothing stays mounted or attached.
func TestKernelFileVolumeKeepsData(t *testing.T) {
	k := newKernel(t)
	v := k.volume(t, "pv-ext4", "ext4", "268435456", false)
	d := k.driver(nil)
	if err := v.stage(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	target := k.target(t, "pod1")
	if err := v.publish(d, target, false); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "data"), []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(v.unpublish(d, target), v.unstage(d)); err != nil {
		t.Fatal(err)
	}
	k.assertClean(t)

	ctx, hold := crashAt(StepMount)
	if err := v.stage(ctx, k.driver(hold)); !errors.Is(err, context.Canceled) {
		t.Fatalf("stage with a crash before the mount: %v", err)
	}
	if err := v.stage(context.Background(), k.driver(nil)); err != nil {
		t.Fatal(err)
	}
	target2 := k.target(t, "pod2")
	if err := v.publish(d, target2, true); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(target2, "data")); err != nil || string(b) != "kept" {
		t.Fatalf("data after a restage: %q %v", b, err)
	}
	if err := os.WriteFile(filepath.Join(target2, "x"), nil, 0o644); !errors.Is(err, unix.EROFS) {
		t.Fatalf("write to a read-only publish: %v, want EROFS", err)
	}
	if k.fmt.n != 1 {
		t.Fatalf("formatted %d times, want 1", k.fmt.n)
	}
	if err := errors.Join(v.unpublish(d, target2), v.unstage(d)); err != nil {
		t.Fatal(err)
	}
	k.assertClean(t)
}

// TestKernelXFS: an xfs volume (xfsprogs wants 300 MB at least).
func TestKernelXFS(t *testing.T) {
	k := newKernel(t)
	v := k.volume(t, "pv-xfs", "xfs", "335544320", false)
	d := k.driver(nil)
	if err := v.stage(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(v.staging, &st); err != nil || st.Type != unix.XFS_SUPER_MAGIC {
		t.Fatalf("staging path: statfs type %#x %v, want xfs", st.Type, err)
	}
	if err := v.unstage(d); err != nil {
		t.Fatal(err)
	}
	if err := v.stage(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if err := v.unstage(d); err != nil {
		t.Fatal(err)
	}
	if k.fmt.n != 1 {
		t.Fatalf("formatted %d times, want 1", k.fmt.n)
	}
	k.assertClean(t)
}

// TestKernelBlockVolume: a block volume's publish is its loop device's
// node bound onto a file; unstage detaches it.
func TestKernelBlockVolume(t *testing.T) {
	k := newKernel(t)
	v := k.volume(t, "pv-block", "", "16777216", true)
	d := k.driver(nil)
	if err := v.stage(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	devs := k.loopsOf()
	if len(devs) != 1 {
		t.Fatalf("loop devices %v", devs)
	}
	target := filepath.Join(filepath.Dir(k.target(t, "pod1")), "dev")
	if err := v.publish(d, target, false); err != nil {
		t.Fatal(err)
	}
	var want, got unix.Stat_t
	if err := errors.Join(unix.Stat(devs[0], &want), unix.Stat(target, &got)); err != nil {
		t.Fatal(err)
	}
	if got.Mode&unix.S_IFMT != unix.S_IFBLK || got.Rdev != want.Rdev {
		t.Fatalf("target mode %o rdev %d, want the block device %d", got.Mode, got.Rdev, want.Rdev)
	}
	if k.fmt.n != 0 {
		t.Fatal("a block volume was formatted")
	}
	if err := errors.Join(v.unpublish(d, target), v.unstage(d)); err != nil {
		t.Fatal(err)
	}
	k.assertClean(t)
}

// TestKernelDeviceVolume: a block device (a loop device the test attaches,
// standing in for a VM's disk) is formatted at its first stage only.
func TestKernelDeviceVolume(t *testing.T) {
	k := newKernel(t)
	disk := filepath.Join(k.dir, "disk.img")
	if err := os.WriteFile(disk, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(disk, 64<<20); err != nil {
		t.Fatal(err)
	}
	dev, err := volumes.SystemLoop{}.Attach(disk)
	if err != nil {
		t.Fatal(err)
	}
	v := k.volume(t, "pv-disk", "ext4", "", false)
	v.attrs = map[string]string{AttrBacking: BackingDevice, AttrPath: dev}
	for range 2 {
		d := k.driver(nil)
		if err := errors.Join(v.stage(context.Background(), d), v.unstage(d)); err != nil {
			t.Fatal(err)
		}
	}
	if k.fmt.n != 1 {
		t.Fatalf("formatted %d times, want 1", k.fmt.n)
	}
	if got, err := (volumes.SystemFormatter{}).Probe(context.Background(), dev); err != nil || got != "ext4" {
		t.Fatalf("probe: %q %v", got, err)
	}
	if devs := k.loopsOf(); len(devs) != 1 || devs[0] != dev {
		t.Fatalf("the disk's device was detached or another attached: %v", devs)
	}
}
