package volumes

import (
	"strings"

	"golang.org/x/sys/unix"
)

// mountFlagOptions are the mount(8) options that are mount(2) flags; the
// others go to the filesystem as its data.
var mountFlagOptions = map[string]struct {
	set   bool
	flags uintptr
}{
	"ro": {true, unix.MS_RDONLY}, "rw": {false, unix.MS_RDONLY},
	"nosuid": {true, unix.MS_NOSUID}, "suid": {false, unix.MS_NOSUID},
	"nodev": {true, unix.MS_NODEV}, "dev": {false, unix.MS_NODEV},
	"noexec": {true, unix.MS_NOEXEC}, "exec": {false, unix.MS_NOEXEC},
	"sync": {true, unix.MS_SYNCHRONOUS}, "async": {false, unix.MS_SYNCHRONOUS},
	"dirsync": {true, unix.MS_DIRSYNC}, "noatime": {true, unix.MS_NOATIME}, "atime": {false, unix.MS_NOATIME},
	"nodiratime": {true, unix.MS_NODIRATIME}, "diratime": {false, unix.MS_NODIRATIME},
	"relatime": {true, unix.MS_RELATIME}, "norelatime": {false, unix.MS_RELATIME},
	"strictatime": {true, unix.MS_STRICTATIME}, "lazytime": {true, unix.MS_LAZYTIME},
	"defaults": {false, 0},
}

// MountFlags splits mount(8)-style options (each may hold several,
// comma-separated) into mount(2) flags and the filesystem's data string.
func MountFlags(options []string) (uintptr, string) {
	var flags uintptr
	var data []string
	for _, o := range options {
		for _, one := range strings.Split(o, ",") {
			one = strings.TrimSpace(one)
			f, ok := mountFlagOptions[one]
			switch {
			case one == "":
			case !ok:
				data = append(data, one)
			case f.set:
				flags |= f.flags
			default:
				flags &^= f.flags
			}
		}
	}
	return flags, strings.Join(data, ",")
}
