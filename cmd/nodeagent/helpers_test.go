package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	crictr "github.com/nodeagent/nodeagent/cri/containerd"
)

// binDir makes a directory with an executable nodeagent and the named
// files (executable unless they end in "!"), and returns nodeagent's path.
func binDir(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range append([]string{"nodeagent"}, files...) {
		mode := os.FileMode(0o755)
		if strings.HasSuffix(f, "!") {
			f, mode = strings.TrimSuffix(f, "!"), 0o644
		}
		if err := os.WriteFile(filepath.Join(dir, f), nil, mode); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "nodeagent")
}

// TestHelpersBesideTheExecutable: the helpers `make build` puts beside
// nodeagent are used; without them (or not executable) nodeagent itself
// is, with a warning naming the missing one and the flag.
func TestHelpersBesideTheExecutable(t *testing.T) {
	cases := []struct {
		files                []string
		wantPause, wantLog   string // file names in the directory
		wantWarningsMentions []string
	}{
		{[]string{pauseHelper, loggerHelper}, pauseHelper, loggerHelper, nil},
		{nil, "nodeagent", "nodeagent", []string{pauseHelper + " is not beside", loggerHelper + " is not beside"}},
		{[]string{pauseHelper}, pauseHelper, "nodeagent", []string{"--logger-binary"}},
		{[]string{pauseHelper + "!", loggerHelper}, "nodeagent", loggerHelper, []string{"not an executable file", "--pause-binary"}},
	}
	for _, c := range cases {
		exe := binDir(t, c.files...)
		var h helperOptions
		rt := crictr.DefaultConfig()
		if err := h.resolve(&rt, exe); err != nil {
			t.Fatalf("%v: %v", c.files, err)
		}
		dir := filepath.Dir(exe)
		if rt.PauseBinary != filepath.Join(dir, c.wantPause) || rt.LoggerBinary != filepath.Join(dir, c.wantLog) {
			t.Errorf("%v: pause %s, logger %s; want %s, %s", c.files, rt.PauseBinary, rt.LoggerBinary, c.wantPause, c.wantLog)
		}
		all := strings.Join(h.warnings, "\n")
		for _, m := range c.wantWarningsMentions {
			if !strings.Contains(all, m) {
				t.Errorf("%v: warnings %q do not mention %q", c.files, h.warnings, m)
			}
		}
		if len(c.wantWarningsMentions) == 0 && len(h.warnings) != 0 {
			t.Errorf("%v: unexpected warnings %q", c.files, h.warnings)
		}
	}
}

// TestHelperFlags: --pause-binary and --logger-binary win over what is
// beside the executable; a relative, missing or non-executable file is
// refused naming the flag, before anything is touched.
func TestHelperFlags(t *testing.T) {
	exe := binDir(t, pauseHelper, loggerHelper, "other", "plain!")
	dir := filepath.Dir(exe)
	h := helperOptions{pause: exe, logger: filepath.Join(dir, "other")}
	rt := crictr.DefaultConfig()
	if err := h.resolve(&rt, exe); err != nil || rt.PauseBinary != exe || rt.LoggerBinary != filepath.Join(dir, "other") || len(h.warnings) != 0 {
		t.Errorf("flags: pause %s, logger %s, warnings %q, err %v", rt.PauseBinary, rt.LoggerBinary, h.warnings, err)
	}
	env, _ := testEnv()
	for _, c := range []struct{ args, want []string }{
		{[]string{"--pause-binary", "nodeagent-pause"}, []string{"--pause-binary", "not an absolute path"}},
		{[]string{"--logger-binary", filepath.Join(dir, "missing")}, []string{"--logger-binary", "no such file"}},
		{[]string{"--logger-binary", filepath.Join(dir, "plain")}, []string{"--logger-binary", "not an executable file"}},
	} {
		err := runAgent(context.Background(), env, append([]string{"--node-name", "n1", "--cleanup"}, c.args...))
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %v, want one with %q", c.args, err, w)
			}
		}
	}
}
