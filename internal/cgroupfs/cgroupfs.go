// Package cgroupfs removes cgroup directories: a cgroup is a directory in
// each mounted hierarchy (cgroup v1) or in the unified one (v2), removed
// with rmdir once it has no tasks, children first.
package cgroupfs

import (
	"errors"
	"os"
	"path/filepath"
)

// Root is where the cgroup hierarchies are mounted.
const Root = "/sys/fs/cgroup"

// Dirs lists the directories of the cgroup at path (relative to each
// hierarchy's root, e.g. "/nodeagent/n1") below root: one per v1
// hierarchy, and the unified one when it holds path.
func Dirs(root, path string) []string {
	dirs, _ := filepath.Glob(filepath.Join(root, "*", path))
	if v2 := filepath.Join(root, path); isDir(v2) {
		dirs = append(dirs, v2)
	}
	return dirs
}

// RemoveTree removes the cgroup at path below root in every hierarchy,
// with its child cgroups (which must have no tasks), deepest first. A
// cgroup that is not there is not an error.
func RemoveTree(root, path string) error {
	var errs []error
	for _, d := range Dirs(root, path) {
		errs = append(errs, removeDir(d))
	}
	return errors.Join(errs...)
}

func removeDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := removeDir(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
