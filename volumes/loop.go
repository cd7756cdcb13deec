package volumes

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Loop attaches regular files as loop block devices (loop(4)) and finds
// them again: the kernel edge of file-backed volumes.
type Loop interface {
	// Attach attaches the regular file at path to a free loop device,
	// read-write, and returns the device (/dev/loopN). It never attaches a
	// file twice: a file already attached is ErrAttached.
	Attach(path string) (string, error)
	// Find returns the loop devices the file at path is attached to (by its
	// device and inode, whatever path the kernel shows).
	Find(path string) ([]string, error)
	// Detach detaches the device. A device still in use (mounted, open) is
	// detached by the kernel when its last user closes it (autoclear); one
	// that is not attached is not an error.
	Detach(dev string) error
	// List returns every attached loop device and the path of its backing
	// file as the kernel shows it (" (deleted)" appended for a removed one).
	List() (map[string]string, error)
}

// ErrAttached says that a file is attached to a loop device already.
var ErrAttached = errors.New("already attached to a loop device")

// SystemLoop is the Loop of the running kernel: LOOP_CTL_GET_FREE on
// /dev/loop-control, LOOP_CONFIGURE on the free device, LOOP_CLR_FD to
// detach; the attached devices are read from /sys/block.
type SystemLoop struct{}

var _ Loop = SystemLoop{}

// Attach configures a free loop device with the file. Another process
// may take the free device between the two ioctls (EBUSY): a few tries.
// The device is attached without autoclear, so it stays while nobody has
// it open (a block volume between its pod's containers, the agent between
// restarts); Detach ends it.
func (SystemLoop) Attach(path string) (string, error) {
	if devs, err := (SystemLoop{}).Find(path); err != nil || len(devs) > 0 {
		return "", errors.Join(err, attachedError(path, devs))
	}
	file, err := os.OpenFile(path, os.O_RDWR|unix.O_NOFOLLOW, 0)
	if err != nil {
		return "", err
	}
	defer file.Close()
	if st, err := file.Stat(); err != nil || !st.Mode().IsRegular() {
		return "", errors.Join(err, fmt.Errorf("attach %s: not a regular file", path))
	}
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0)
	if err != nil {
		return "", err
	}
	defer ctl.Close()
	for try := 0; ; try++ {
		dev, err := configureFree(ctl, file)
		if err == nil || try == 8 || !errors.Is(err, unix.EBUSY) {
			return dev, err
		}
	}
}

func attachedError(path string, devs []string) error {
	if len(devs) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %w (%s)", path, ErrAttached, strings.Join(devs, ", "))
}

// configureFree asks for a free loop device and binds file to it.
func configureFree(ctl, file *os.File) (string, error) {
	n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
	if err != nil {
		return "", &os.PathError{Op: "LOOP_CTL_GET_FREE", Path: ctl.Name(), Err: err}
	}
	dev := fmt.Sprintf("/dev/loop%d", n)
	lo, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		return "", err
	}
	defer lo.Close()
	cfg := unix.LoopConfig{Fd: uint32(file.Fd())}
	copy(cfg.Info.File_name[:len(cfg.Info.File_name)-1], file.Name())
	if err := unix.IoctlLoopConfigure(int(lo.Fd()), &cfg); err != nil {
		return "", &os.PathError{Op: "LOOP_CONFIGURE", Path: dev, Err: err}
	}
	return dev, nil
}

// Find compares the file's device and inode with each attached device's
// (LOOP_GET_STATUS64).
func (SystemLoop) Find(path string) ([]string, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	all, err := (SystemLoop{}).List()
	if err != nil {
		return nil, err
	}
	var out []string
	for dev := range all {
		info, err := loopStatus(dev)
		if err != nil {
			continue // detached meanwhile
		}
		if info.Device == st.Dev && info.Inode == st.Ino {
			out = append(out, dev)
		}
	}
	return out, nil
}

func loopStatus(dev string) (*unix.LoopInfo64, error) {
	f, err := os.OpenFile(dev, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return unix.IoctlLoopGetStatus64(int(f.Fd()))
}

// Detach runs LOOP_CLR_FD: the kernel detaches an unused device at once
// and marks a used one autoclear. ENXIO: it was not attached.
func (SystemLoop) Detach(dev string) error {
	if err := validLoopDevice(dev); err != nil {
		return err
	}
	f, err := os.OpenFile(dev, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	err = unix.IoctlSetInt(int(f.Fd()), unix.LOOP_CLR_FD, 0)
	if err == nil || err == unix.ENXIO {
		return nil
	}
	return &os.PathError{Op: "LOOP_CLR_FD", Path: dev, Err: err}
}

// validLoopDevice accepts /dev/loopN only: Detach never touches another
// device, whatever a state file says.
func validLoopDevice(dev string) error {
	n, ok := strings.CutPrefix(dev, "/dev/loop")
	if !ok || n == "" || strings.Trim(n, "0123456789") != "" {
		return fmt.Errorf("%q is not a loop device", dev)
	}
	return nil
}

// List reads /sys/block/loop*/loop/backing_file: only attached devices
// have it.
func (SystemLoop) List() (map[string]string, error) {
	files, err := filepath.Glob("/sys/block/loop*/loop/backing_file")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // detached meanwhile
		}
		name := filepath.Base(filepath.Dir(filepath.Dir(f)))
		out["/dev/"+name] = strings.TrimSuffix(string(b), "\n")
	}
	return out, nil
}
