package volumes

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The atomic writer lays out a configMap, secret (or any projected) volume
// as kubelet does, so that a container always sees one whole version:
//
//	<dir>/..2026_12_06_10_00_00.123456789/<key>   the files of one version
//	<dir>/..data -> ..2026_12_06_10_00_00.123456789
//	<dir>/<key>  -> ..data/<key>                  what the container reads
//
// A new version goes into a new timestamped directory; the ..data symlink
// is swapped to it with one rename(2); the old directory is then removed.
// Names starting with ".." are the writer's own. Every step works on the
// volume directory's descriptor and single names (beneath.go), so a
// symlink in the volume is replaced, never written through.

const (
	dataLink    = "..data"
	dataLinkTmp = "..data_tmp"
	linkTmp     = "..link_tmp"
	tsLayout    = "..2006_01_02_15_04_05."
	maxPathLen  = 4096
	maxNameLen  = 255
)

// File is one file of a projected volume.
type File struct {
	Data []byte
	Mode os.FileMode // permission bits, e.g. 0644
}

// ErrInvalidPath says that a file's path cannot be written (absolute, with
// "..", reserved, too long or conflicting with another).
var ErrInvalidPath = errors.New("invalid path")

// WriteAtomic makes the volume directory dir show exactly files, each a
// path relative to the volume. Nothing is rewritten when the files are
// already there as given.
func WriteAtomic(dir *os.File, files map[string]File, now time.Time) error {
	files, err := validatePaths(files)
	if err != nil {
		return err
	}
	old, err := currentVersion(dir)
	if err != nil {
		return err
	}
	tops := topNames(files)
	if old != "" && sameFiles(dir, old, files) && linksInPlace(dir, tops) {
		return removeStale(dir, old, tops)
	}
	ts, err := writeVersion(dir, files, now)
	if err != nil {
		return err
	}
	if err := placeLinks(dir, tops); err != nil {
		return err
	}
	if err := replaceWithLink(dir, dataLinkTmp, dataLink, ts); err != nil {
		return errors.Join(err, removeAll(dir, ts))
	}
	return removeStale(dir, ts, tops)
}

// validatePaths checks every path as kubelet's writer does and returns the
// files under their cleaned paths.
func validatePaths(files map[string]File) (map[string]File, error) {
	out := map[string]File{}
	for p, f := range files {
		if err := validatePath(p); err != nil {
			return nil, err
		}
		out[path.Clean(p)] = f
	}
	for p := range out {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if _, ok := out[d]; ok {
				return nil, fmt.Errorf("%w %q: %q is a file too", ErrInvalidPath, p, d)
			}
		}
	}
	return out, nil
}

func validatePath(p string) error {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrInvalidPath, p, why) }
	switch {
	case p == "" || path.Clean(p) == ".":
		return bad("must not be empty")
	case path.IsAbs(p):
		return bad("must be a relative path")
	case len(p) > maxPathLen:
		return bad(fmt.Sprintf("must be at most %d characters", maxPathLen))
	case strings.ContainsRune(p, 0):
		return bad("must not contain NUL")
	}
	names := strings.Split(p, "/")
	for _, n := range names {
		if n == ".." {
			return bad("must not contain '..'")
		}
		if len(n) > maxNameLen {
			return bad(fmt.Sprintf("names must be at most %d characters", maxNameLen))
		}
	}
	if strings.HasPrefix(splitPath(p)[0], "..") {
		return bad("must not start with '..'")
	}
	return nil
}

// topNames are the first names of the paths: the user-visible symlinks.
func topNames(files map[string]File) map[string]bool {
	out := map[string]bool{}
	for p := range files {
		out[splitPath(p)[0]] = true
	}
	return out
}

// currentVersion is the directory ..data names, or "" when there is none
// or ..data is not the writer's (it is then replaced).
func currentVersion(dir *os.File) (string, error) {
	ts, err := readlinkat(dir, dataLink)
	switch {
	case errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EINVAL):
		return "", nil // missing, or not a symlink
	case err != nil:
		return "", err
	case !isVersionName(ts):
		return "", nil
	}
	return ts, nil
}

// isVersionName says whether name is a single name the writer could have
// made for a version.
func isVersionName(name string) bool {
	return strings.HasPrefix(name, "..") && !strings.Contains(name, "/") && name != dataLink && name != dataLinkTmp &&
		name != linkTmp && len(name) > len(tsLayout)
}

func readlinkat(dir *os.File, name string) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(int(dir.Fd()), name, buf)
	if err != nil {
		return "", &os.PathError{Op: "readlink", Path: path.Join(dir.Name(), name), Err: err}
	}
	return string(buf[:n]), nil
}

// writeVersion writes files into a fresh timestamped directory and
// returns its name.
func writeVersion(dir *os.File, files map[string]File, now time.Time) (string, error) {
	ts, d, err := makeVersionDir(dir, now)
	if err != nil {
		return "", err
	}
	defer d.Close()
	for p, f := range files {
		if err := writeFile(d, p, f); err != nil {
			return "", errors.Join(err, removeAll(dir, ts))
		}
	}
	return ts, nil
}

func makeVersionDir(dir *os.File, now time.Time) (string, *os.File, error) {
	prefix := now.UTC().Format(tsLayout)
	for {
		name := fmt.Sprintf("%s%09d", prefix, rand.IntN(1e9))
		err := unix.Mkdirat(int(dir.Fd()), name, 0o755)
		if err == unix.EEXIST {
			continue
		}
		if err != nil {
			return "", nil, &os.PathError{Op: "mkdir", Path: path.Join(dir.Name(), name), Err: err}
		}
		d, err := openDir(dir, name)
		if err == nil {
			err = chmodPath(d, 0o755)
		}
		return name, d, err
	}
}

// writeFile creates the file p (and its directories) beneath the version
// directory d with f's content and mode.
func writeFile(d *os.File, p string, f File) error {
	parent, err := mkdirAll(d, path.Dir(p), 0o755)
	if err != nil {
		return err
	}
	defer parent.Close()
	out, err := openat2(parent, path.Base(p), unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL, uint32(f.Mode.Perm()), noFollow)
	if err != nil {
		return err
	}
	_, err = out.Write(f.Data)
	if err == nil {
		err = out.Chmod(f.Mode.Perm()) // past the umask
	}
	return errors.Join(err, out.Close())
}

// sameFiles says whether version ts holds exactly files, with their modes.
func sameFiles(dir *os.File, ts string, files map[string]File) bool {
	d, err := openat2(dir, ts, unix.O_RDONLY|unix.O_DIRECTORY, 0, noFollow)
	if err != nil {
		return false
	}
	defer d.Close()
	seen := 0
	if !walkSame(d, "", files, &seen) {
		return false
	}
	return seen == len(files)
}

// walkSame compares every file beneath d (at prefix) with files, counting
// those it found; anything but a directory or regular file differs.
func walkSame(d *os.File, prefix string, files map[string]File, seen *int) bool {
	entries, err := d.ReadDir(-1)
	if err != nil {
		return false
	}
	for _, e := range entries {
		p := path.Join(prefix, e.Name())
		var ok bool
		switch {
		case e.Type().IsDir():
			ok = subdirSame(d, e.Name(), p, files, seen)
		case e.Type().IsRegular():
			want, known := files[p]
			ok = known && fileSame(d, e.Name(), want)
			*seen++
		}
		if !ok {
			return false
		}
	}
	return true
}

func subdirSame(d *os.File, name, p string, files map[string]File, seen *int) bool {
	sub, err := openat2(d, name, unix.O_RDONLY|unix.O_DIRECTORY, 0, noFollow)
	if err != nil {
		return false
	}
	defer sub.Close()
	return walkSame(sub, p, files, seen)
}

func fileSame(d *os.File, name string, want File) bool {
	f, err := openat2(d, name, unix.O_RDONLY, 0, noFollow)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != want.Mode.Perm() || st.Size() != int64(len(want.Data)) {
		return false
	}
	got, err := io.ReadAll(f)
	return err == nil && bytes.Equal(got, want.Data)
}

// linksInPlace says whether every top name is the symlink ..data/<name>.
func linksInPlace(dir *os.File, tops map[string]bool) bool {
	for n := range tops {
		if t, err := readlinkat(dir, n); err != nil || t != path.Join(dataLink, n) {
			return false
		}
	}
	return true
}

// placeLinks makes each top name the symlink ..data/<name>.
func placeLinks(dir *os.File, tops map[string]bool) error {
	for n := range tops {
		want := path.Join(dataLink, n)
		if t, err := readlinkat(dir, n); err == nil && t == want {
			continue
		}
		if err := replaceWithLink(dir, linkTmp, n, want); err != nil {
			return err
		}
	}
	return nil
}

// replaceWithLink points name at target with swapLink; a directory there,
// which rename(2) cannot replace with a symlink, is removed first.
func replaceWithLink(dir *os.File, tmp, name, target string) error {
	if err := swapLink(dir, tmp, name, target); err == nil {
		return nil
	}
	if err := removeAll(dir, name); err != nil {
		return err
	}
	return swapLink(dir, tmp, name, target)
}

// swapLink points name at target: a symlink made as tmp, renamed over
// name in one step.
func swapLink(dir *os.File, tmp, name, target string) error {
	if err := removeAll(dir, tmp); err != nil {
		return err
	}
	if err := unix.Symlinkat(target, int(dir.Fd()), tmp); err != nil {
		return &os.PathError{Op: "symlink", Path: path.Join(dir.Name(), tmp), Err: err}
	}
	if err := unix.Renameat(int(dir.Fd()), tmp, int(dir.Fd()), name); err != nil {
		return errors.Join(&os.PathError{Op: "rename", Path: path.Join(dir.Name(), name), Err: err}, removeAll(dir, tmp))
	}
	return nil
}

// removeStale removes what the volume directory holds beyond the version
// ts, its ..data link and the top names: older versions, leftovers of an
// interrupted write, names no longer projected, and anything else.
func removeStale(dir *os.File, ts string, tops map[string]bool) error {
	d, err := openat2(dir, ".", unix.O_RDONLY|unix.O_DIRECTORY, 0, noFollow)
	if err != nil {
		return err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		if n != ts && n != dataLink && !tops[n] {
			errs = append(errs, removeAll(dir, n))
		}
	}
	return errors.Join(errs...)
}
