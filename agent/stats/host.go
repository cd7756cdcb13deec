package stats

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Host reads what the node as a whole has.
type Host interface {
	// BootTime is when the node booted (the node's start time).
	BootTime() (time.Time, error)
	// MemTotal is the node's memory in bytes.
	MemTotal() (uint64, error)
	// Statfs is the use of the filesystem that holds path.
	Statfs(path string) (FsUsage, error)
	// FileSize is the size of the file at path.
	FileSize(path string) (uint64, error)
	// Rlimit is the most process IDs the node has (the smaller of
	// pid_max and threads-max) and how many it uses now.
	Rlimit() (maxPID, running uint64, err error)
}

// FsUsage is a filesystem's use.
type FsUsage struct {
	Capacity, Available, Used uint64 // bytes
	Inodes, InodesFree        uint64
}

// Proc reads /proc (Root) and calls statfs.
type Proc struct {
	Root string
}

var _ Host = Proc{}

// BootTime reads btime from /proc/stat.
func (p Proc) BootTime() (time.Time, error) {
	v, err := procField(filepath.Join(p.Root, "stat"), "btime")
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(int64(v), 0), nil
}

// MemTotal reads MemTotal from /proc/meminfo.
func (p Proc) MemTotal() (uint64, error) {
	kb, err := procField(filepath.Join(p.Root, "meminfo"), "MemTotal:")
	return kb * 1024, err
}

// procField is the first number after the line's leading key.
func procField(path, key string) (uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == key {
			return strconv.ParseUint(f[1], 10, 64)
		}
	}
	return 0, fmt.Errorf("%s: no %s", path, key)
}

// Statfs implements Host.
func (Proc) Statfs(path string) (FsUsage, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return FsUsage{}, fmt.Errorf("statfs %s: %w", path, err)
	}
	bs := uint64(st.Bsize)
	return FsUsage{Capacity: st.Blocks * bs, Available: st.Bavail * bs, Used: (st.Blocks - st.Bfree) * bs,
		Inodes: st.Files, InodesFree: st.Ffree}, nil
}

// Rlimit implements Host, as kubelet's pid limit stats: the smaller of
// kernel.pid_max and kernel.threads-max, and the number of tasks from
// /proc/loadavg (its fourth field, running/total: sysinfo's count is 16
// bits).
func (p Proc) Rlimit() (uint64, uint64, error) {
	maxPID, err := readUint(filepath.Join(p.Root, "sys/kernel/pid_max"))
	if err != nil {
		return 0, 0, err
	}
	if threads, err := readUint(filepath.Join(p.Root, "sys/kernel/threads-max")); err == nil && threads < maxPID {
		maxPID = threads
	}
	data, err := os.ReadFile(filepath.Join(p.Root, "loadavg"))
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(string(data))
	if len(f) < 4 {
		return 0, 0, fmt.Errorf("%s: %q", filepath.Join(p.Root, "loadavg"), data)
	}
	_, total, _ := strings.Cut(f[3], "/")
	running, err := strconv.ParseUint(total, 10, 64)
	return maxPID, running, err
}

// FileSize implements Host; it follows no symlink at the end of path.
func (Proc) FileSize(path string) (uint64, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return 0, err
	}
	return uint64(fi.Size()), nil
}
