package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	crictr "github.com/nodeagent/nodeagent/cri/containerd"
)

// The per-pod helper binaries `make build` puts beside nodeagent: each
// pod's sandbox process and each container's log process. They take the
// same arguments as `nodeagent pause` and `nodeagent cri-logger`, which do
// the same work in the whole nodeagent binary: about 8 MB of memory and
// 15-20 ms of CPU per process, where the helpers need a few hundred KiB.
const (
	pauseHelper  = "nodeagent-pause"
	loggerHelper = "nodeagent-logger"
)

// helperOptions are --pause-binary and --logger-binary; empty is the
// helper beside this executable, else this executable itself.
type helperOptions struct {
	pause, logger string
	// warnings say which helper was not found, once resolved.
	warnings []string
}

func helperFlags(fs *flag.FlagSet, h *helperOptions) {
	fs.StringVar(&h.pause, "pause-binary", "", "static executable every pod sandbox runs as its process, as `BIN pause` (default: "+pauseHelper+" beside this executable, else this executable)")
	fs.StringVar(&h.logger, "logger-binary", "", "executable containerd's shim runs for each container's log, as `BIN cri-logger PATH` (default: "+loggerHelper+" beside this executable, else this executable)")
}

// resolve sets rt.PauseBinary and rt.LoggerBinary: the flag's file, which
// must be there; else the helper beside exe; else exe itself, with a
// warning. Pods already running keep the processes they were started with,
// whichever binary that was.
func (h *helperOptions) resolve(rt *crictr.Config, exe string) error {
	h.warnings = nil
	var errs []error
	for _, b := range []struct {
		flag, name, given string
		dst               *string
	}{
		{"--pause-binary", pauseHelper, h.pause, &rt.PauseBinary},
		{"--logger-binary", loggerHelper, h.logger, &rt.LoggerBinary},
	} {
		path, warning, err := resolveHelper(b.flag, b.name, b.given, exe)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*b.dst = path
		if warning != "" {
			h.warnings = append(h.warnings, warning)
		}
	}
	return errors.Join(errs...)
}

// resolveHelper picks one helper's path: given (from flag), else name
// beside exe, else exe with a warning that says what that costs.
func resolveHelper(flag, name, given, exe string) (path, warning string, err error) {
	if given != "" {
		if !filepath.IsAbs(given) {
			return "", "", fmt.Errorf("%s: %q is not an absolute path", flag, given)
		}
		if err := isExecutable(given); err != nil {
			return "", "", fmt.Errorf("%s: %w", flag, err)
		}
		return given, "", nil
	}
	if exe == "" {
		return "", "", fmt.Errorf("%s: not set, and this executable's path is unknown", flag)
	}
	beside := filepath.Join(filepath.Dir(exe), name)
	if err := isExecutable(beside); err != nil {
		return exe, fmt.Sprintf("%s is not beside %s (%v): each pod runs the whole nodeagent binary in its place, about 8 MB of memory a process; "+
			"`make build` builds it into bin/, install it beside nodeagent or name it with %s", name, exe, err, flag), nil
	}
	return beside, "", nil
}

// isExecutable fails unless path is a regular file with an execute bit.
func isExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}
