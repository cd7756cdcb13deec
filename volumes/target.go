package volumes

import (
	"errors"
	"os"
	"path/filepath"
)

// MakeTarget creates (or keeps) name in parent as a directory (dir) or an
// empty file, replacing one of the other kind, following no symlink, and
// opens it O_PATH: a mount target.
func MakeTarget(parent *os.File, name string, dir bool) (*os.File, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	return makeTarget(parent, name, dir)
}

// RemoveUnmounted removes the file or directory at p (and what is in it),
// following no symlink and refusing to go into a mount. A missing p is
// not an error.
func RemoveUnmounted(p string) error {
	parent, err := OpenTrusted(filepath.Dir(p))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer parent.Close()
	return removeAll(parent, filepath.Base(p))
}
