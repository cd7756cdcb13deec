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

	"github.com/nodeagent/nodeagent/volumes"
)

// fakes are the driver's kernel edges, kept across "restarts" of the
// driver as the kernel keeps its state across restarts of the agent.
type fakes struct {
	loop  *volumes.FakeLoop
	fmt   *volumes.FakeFormatter
	mount *volumes.Fake
	dir   string // the agent's root
}

func newFakes(t *testing.T) *fakes {
	loop := volumes.NewFakeLoop()
	f := &fakes{loop: loop, fmt: volumes.NewFakeFormatter(loop), mount: volumes.NewFake(), dir: resolved(t, t.TempDir())}
	// As a kernel: no filesystem of the type on the device, no mount.
	f.mount.CheckDevice = func(dev, fsType string) error {
		got, err := f.fmt.Probe(context.Background(), dev)
		if err != nil || got != fsType {
			return errors.Join(err, errors.New("wrong fs type, bad superblock"))
		}
		return nil
	}
	return f
}

func resolved(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// driver is a freshly started driver on the fakes.
func (f *fakes) driver(hold func(context.Context, string, Step)) *Driver {
	return New(Config{BackingDir: filepath.Join(f.dir, "volumes-backing"), Loop: f.loop, Formatter: f.fmt, Mounter: f.mount,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Hold: hold})
}

// vol is one volume's requests, with the staging path made as the
// manager makes it.
type vol struct {
	id, staging string
	attrs       map[string]string
	capability  volumes.VolumeCapability
}

func (f *fakes) fileVolume(t *testing.T, id string, block bool) vol {
	staging := filepath.Join(volumes.StagingDir(f.dir, Name, id), volumes.GlobalMountDir)
	if err := os.MkdirAll(staging, 0o750); err != nil {
		t.Fatal(err)
	}
	return vol{id: id, staging: staging, attrs: map[string]string{AttrBacking: BackingFile, AttrSize: "1048576"},
		capability: volumes.VolumeCapability{Block: block, FsType: "ext4", MountFlags: []string{"noatime"}}}
}

func (v vol) stage(ctx context.Context, d *Driver) error {
	return d.NodeStageVolume(ctx, &volumes.NodeStageVolumeRequest{VolumeID: v.id, StagingTargetPath: v.staging,
		VolumeCapability: v.capability, VolumeContext: v.attrs})
}

func (v vol) unstage(d *Driver) error {
	return d.NodeUnstageVolume(context.Background(), &volumes.NodeUnstageVolumeRequest{VolumeID: v.id, StagingTargetPath: v.staging})
}

func (v vol) publish(d *Driver, target string, ro bool) error {
	return d.NodePublishVolume(context.Background(), &volumes.NodePublishVolumeRequest{VolumeID: v.id, StagingTargetPath: v.staging,
		TargetPath: target, VolumeCapability: v.capability, Readonly: ro, VolumeContext: v.attrs})
}

func (v vol) unpublish(d *Driver, target string) error {
	return d.NodeUnpublishVolume(context.Background(), &volumes.NodeUnpublishVolumeRequest{VolumeID: v.id, TargetPath: target})
}

// crashAt is a Hold that ends the stage at step, once: the context is
// cancelled as the process would die there, after the step's record.
func crashAt(step Step) (context.Context, func(context.Context, string, Step)) {
	ctx, cancel := context.WithCancel(context.Background())
	return ctx, func(_ context.Context, _ string, s Step) {
		if s == step {
			cancel()
		}
	}
}

// TestStageCrashAtEveryStepConverges: a driver that dies at any step of a
// stage and is started again stages the volume with one format, one loop
// device and one mount; publish, unpublish and unstage then leave no
// loop device and no mount, and the backing file with its filesystem.
func TestStageCrashAtEveryStepConverges(t *testing.T) {
	for _, step := range []Step{StepAttach, StepFormat, StepMount, StepStaged} {
		t.Run(string(step), func(t *testing.T) {
			f := newFakes(t)
			v := f.fileVolume(t, "pv-1", false)
			ctx, hold := crashAt(step)
			if err := v.stage(ctx, f.driver(hold)); !errors.Is(err, context.Canceled) {
				t.Fatalf("stage with a crash at %s: %v", step, err)
			}
			d := f.driver(nil) // the restarted agent
			if err := v.stage(context.Background(), d); err != nil {
				t.Fatalf("stage after the crash: %v", err)
			}
			if err := v.stage(context.Background(), d); err != nil {
				t.Fatalf("stage again: %v", err)
			}
			f.assertStaged(t, v, 1)
			target := f.podTarget(t, "pod1")
			if err := v.publish(d, target, true); err != nil {
				t.Fatal(err)
			}
			if m := f.mount.Mounts()[target]; m.Type != "bind" || m.Source != v.staging || m.Options != "ro" {
				t.Fatalf("publish target mount %+v", m)
			}
			for range 2 {
				if err := v.unpublish(d, target); err != nil {
					t.Fatal(err)
				}
				if err := v.unstage(d); err != nil {
					t.Fatal(err)
				}
			}
			f.assertClean(t, v, target)
		})
	}
}

// assertStaged: one loop device on the backing file, formatted `formats`
// times, mounted once at the staging path with the volume's options.
func (f *fakes) assertStaged(t *testing.T, v vol, formats int) {
	t.Helper()
	file := filepath.Join(f.dir, "volumes-backing", v.id+".img")
	devs, err := f.loop.Find(file)
	if err != nil || len(devs) != 1 {
		t.Fatalf("loop devices of %s: %v %v", file, devs, err)
	}
	if n := f.fmt.Formats(file); n != formats {
		t.Fatalf("formatted %d times, want %d", n, formats)
	}
	if f.loop.Attachs != 1 {
		t.Fatalf("%d attaches, want 1", f.loop.Attachs)
	}
	if m := f.mount.Mounts()[v.staging]; m.Type != "ext4" || m.Source != devs[0] || m.Options != "noatime" {
		t.Fatalf("staging mount %+v, want ext4 of %s with noatime", m, devs[0])
	}
	if mounts, _ := f.mount.List(v.staging); len(mounts) != 1 {
		t.Fatalf("mounts at the staging path: %v", mounts)
	}
}

// podTarget is a publish target's path with its parent made.
func (f *fakes) podTarget(t *testing.T, pod string) string {
	dir := filepath.Join(f.dir, "pods", pod, "volumes", string(volumes.KindCSI), "pv")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "mount")
}

func (f *fakes) assertClean(t *testing.T, v vol, targets ...string) {
	t.Helper()
	if devs, _ := f.loop.List(); len(devs) != 0 {
		t.Fatalf("loop devices left: %v", devs)
	}
	if m := f.mount.Mounts(); len(m) != 0 {
		t.Fatalf("mounts left: %v", m)
	}
	for _, p := range append(targets, recordPath(v.staging)) {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Fatalf("%s left behind: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(f.dir, "volumes-backing", v.id+".img")); err != nil {
		t.Fatalf("the backing file went: %v", err)
	}
}

// TestRestageKeepsTheFilesystem: a volume unstaged and staged again (a
// new pod, a restarted node) is mounted, never formatted again.
func TestRestageKeepsTheFilesystem(t *testing.T) {
	f := newFakes(t)
	v := f.fileVolume(t, "pv-1", false)
	d := f.driver(nil)
	for range 3 {
		if err := v.stage(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		if err := v.unstage(d); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(f.dir, "volumes-backing", "pv-1.img")
	if n := f.fmt.Formats(file); n != 1 {
		t.Fatalf("formatted %d times, want 1", n)
	}
}

// TestNeverFormatsWhatHoldsData: a backing file with another filesystem,
// or a partition table, is neither formatted nor mounted; a volume
// recorded as formatted whose filesystem is gone is not formatted again.
func TestNeverFormatsWhatHoldsData(t *testing.T) {
	for _, tc := range []struct{ name, head, want string }{
		{"other filesystem", "NODEAGENT-FAKEFS:xfs\n", "holds a xfs filesystem"},
		{"partition table", volumes.FakePartitionTable, "partition table"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakes(t)
			v := f.fileVolume(t, "pv-1", false)
			file := filepath.Join(f.dir, "volumes-backing", "pv-1.img")
			if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, []byte(tc.head), 0o600); err != nil {
				t.Fatal(err)
			}
			err := v.stage(context.Background(), f.driver(nil))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("stage: %v, want an error with %q", err, tc.want)
			}
			if b, _ := os.ReadFile(file); string(b) != tc.head || f.fmt.Formats(file) != 0 || len(f.mount.Mounts()) != 0 {
				t.Fatalf("the file changed (%q) or was formatted or mounted", b)
			}
		})
	}
	t.Run("filesystem gone", func(t *testing.T) {
		f := newFakes(t)
		v := f.fileVolume(t, "pv-1", false)
		d := f.driver(nil)
		if err := v.stage(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(f.dir, "volumes-backing", "pv-1.img")
		if err := errors.Join(f.mount.Unmount(v.staging), os.WriteFile(file, make([]byte, 64), 0o600)); err != nil {
			t.Fatal(err) // as a reboot, then something wiped the superblock
		}
		err := v.stage(context.Background(), d)
		if err == nil || !strings.Contains(err.Error(), "refusing to format it again") {
			t.Fatalf("stage: %v", err)
		}
		if f.fmt.Formats(file) != 1 {
			t.Fatal("formatted again")
		}
	})
}

// TestBlockVolume: a block volume is attached, not formatted nor mounted
// at the staging path (its publish, a bind of the device node, is tested
// on the kernel: root_test.go).
func TestBlockVolume(t *testing.T) {
	f := newFakes(t)
	v := f.fileVolume(t, "pv-b", true)
	d := f.driver(nil)
	if err := v.stage(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(f.dir, "volumes-backing", "pv-b.img")
	devs, _ := f.loop.Find(file)
	if len(devs) != 1 || f.fmt.Formats(file) != 0 || len(f.mount.Mounts()) != 0 {
		t.Fatalf("devices %v, formats %d, mounts %v", devs, f.fmt.Formats(file), f.mount.Mounts())
	}
	if err := v.unstage(d); err != nil {
		t.Fatal(err)
	}
	if left, _ := f.loop.List(); len(left) != 0 {
		t.Fatalf("loop devices left: %v", left)
	}
}

// TestBadAttributes are refused as invalid arguments, with nothing made.
func TestBadAttributes(t *testing.T) {
	for name, attrs := range map[string]map[string]string{
		"no backing":    {},
		"no size":       {AttrBacking: BackingFile},
		"negative size": {AttrBacking: BackingFile, AttrSize: "-1"},
		"relative path": {AttrBacking: BackingDevice, AttrPath: "dev/sda"},
		"force":         {AttrBacking: BackingFile, AttrSize: "1024", AttrMkfsOptions: "-F"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakes(t)
			v := f.fileVolume(t, "pv-1", false)
			v.attrs = attrs
			err := v.stage(context.Background(), f.driver(nil))
			if err == nil {
				t.Fatal("accepted")
			}
			if name != "force" && !errors.Is(err, volumes.ErrInvalidArgument) {
				t.Fatalf("%v is not ErrInvalidArgument", err)
			}
			if f.fmt.Formats(filepath.Join(f.dir, "volumes-backing", "pv-1.img")) != 0 || len(f.mount.Mounts()) != 0 {
				t.Fatal("formatted or mounted")
			}
		})
	}
	t.Run("handle with a slash", func(t *testing.T) {
		f := newFakes(t)
		v := f.fileVolume(t, "x", false)
		v.id = "../x"
		if err := v.stage(context.Background(), f.driver(nil)); !errors.Is(err, volumes.ErrInvalidArgument) {
			t.Fatalf("stage: %v", err)
		}
	})
}

// TestLocalDirectory: a PV's local path that is a directory is bound as
// it is (nothing attached, formatted or mounted at the staging path); a
// path that is neither a directory nor a block device is refused.
func TestLocalDirectory(t *testing.T) {
	f := newFakes(t)
	v := f.fileVolume(t, "pv-local", false)
	dir := t.TempDir()
	v.attrs = map[string]string{AttrBacking: BackingLocal, AttrPath: dir}
	d := f.driver(nil)
	if err := v.stage(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	target := f.podTarget(t, "pod1")
	if err := v.publish(d, target, false); err != nil {
		t.Fatal(err)
	}
	if m := f.mount.Mounts(); len(m) != 1 || m[target].Source != resolved(t, dir) {
		t.Fatalf("mounts %v, want %s bound on %s", m, dir, target)
	}
	if l, _ := f.loop.List(); len(l) != 0 {
		t.Fatalf("loop devices %v", l)
	}
	if err := errors.Join(v.unpublish(d, target), v.unstage(d)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the directory went: %v", err)
	}
	v.attrs[AttrPath] = "/dev/null"
	if err := v.stage(context.Background(), f.driver(nil)); !errors.Is(err, volumes.ErrInvalidArgument) {
		t.Fatalf("a character device as a local volume: %v", err)
	}
}

// TestBackingFileIsPrivate: the backing directory is 0700 and its files
// 0600 (the volumes' data, readable by root only); a symlink planted as a
// backing file is refused, not followed.
func TestBackingFileIsPrivate(t *testing.T) {
	f := newFakes(t)
	v := f.fileVolume(t, "pv-1", false)
	if err := v.stage(context.Background(), f.driver(nil)); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(f.dir, "volumes-backing")
	for p, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, filepath.Join(dir, "pv-1.img"): 0o600} {
		if st, err := os.Stat(p); err != nil || st.Mode() != want {
			t.Errorf("%s: %v %v, want %v", p, st.Mode(), err, want)
		}
	}
	w := f.fileVolume(t, "pv-2", false)
	host := filepath.Join(t.TempDir(), "host")
	if err := os.WriteFile(host, []byte("host data"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(host, filepath.Join(dir, "pv-2.img")); err != nil {
		t.Fatal(err)
	}
	if err := w.stage(context.Background(), f.driver(nil)); err == nil {
		t.Fatal("a symlinked backing file was staged")
	}
	if b, _ := os.ReadFile(host); string(b) != "host data" || f.fmt.Formats(host) != 0 {
		t.Fatal("the symlink's target was touched")
	}
}
