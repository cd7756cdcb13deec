package containerd

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/containerd/containerd/v2/pkg/identifiers"
)

// Validate reports every setting the runtime cannot work with, naming its
// flag (or, without one, its field). New calls it after withDefaults.
func (c Config) Validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	if !filepath.IsAbs(c.Address) {
		bad("--containerd", "%q is not the absolute path of containerd's socket", c.Address)
	}
	if err := identifiers.Validate(c.Namespace); err != nil {
		bad("--containerd-namespace", "%v", err)
	}
	for _, p := range []struct{ name, path string }{
		{"RuncRoot", c.RuncRoot}, {"StateDir", c.StateDir}, {"FIFODir", c.FIFODir},
		{"PauseBinary", c.PauseBinary}, {"LoggerBinary", c.LoggerBinary},
	} {
		if !filepath.IsAbs(p.path) {
			bad(p.name, "%q is not an absolute path", p.path)
		}
	}
	if !strings.HasPrefix(c.DefaultCgroupParent, "/") {
		bad("DefaultCgroupParent", "%q is not a cgroupfs path (it starts with /)", c.DefaultCgroupParent)
	}
	if c.KillTimeout <= 0 {
		bad("KillTimeout", "must be positive, got %s", c.KillTimeout)
	}
	if len(c.PauseArgs) == 0 {
		bad("PauseArgs", "the pause process needs its arguments")
	}
	return errors.Join(errs...)
}
