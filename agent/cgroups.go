package agent

import (
	"errors"
	"os"
	"path/filepath"
)

// cgroupRoot is where the cgroup hierarchies are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// podCgroup is the pod's cgroup parent; its containers go below it.
func podCgroup(uid string) string { return "/nodeagent/pod" + uid }

// removePodCgroup removes the pod's (then empty) cgroup directories in
// every hierarchy; one that is gone or still busy is left to the next try.
func removePodCgroup(uid string) error {
	dirs, err := filepath.Glob(filepath.Join(cgroupRoot, "*", podCgroup(uid)))
	if err != nil {
		return err
	}
	if v2 := filepath.Join(cgroupRoot, podCgroup(uid)); exists(v2) {
		dirs = append(dirs, v2)
	}
	var errs []error
	for _, d := range dirs {
		if err := os.Remove(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
