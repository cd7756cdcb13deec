package containerd

import (
	"io"
	"log/slog"
	"strings"
	"testing"
)

// TestNewRefusesABadConfig: a configuration the runtime cannot work with
// is New's error, naming the flag, before anything is made or dialled (a
// namespace containerd refuses was accepted, and every later call failed).
func TestNewRefusesABadConfig(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"namespace with a slash", func(c *Config) { c.Namespace = "a/b" }, "--containerd-namespace"},
		{"relative socket", func(c *Config) { c.Address = "containerd.sock" }, "--containerd"},
		{"negative kill timeout", func(c *Config) { c.KillTimeout = -1 }, "KillTimeout"},
		{"relative state dir", func(c *Config) { c.StateDir = "state" }, "StateDir"},
		{"cgroup parent", func(c *Config) { c.DefaultCgroupParent = "nodeagent" }, "DefaultCgroupParent"},
	}
	for _, c := range cases {
		cfg := Config{StateDir: t.TempDir(), FIFODir: t.TempDir(), Address: "/nonexistent/containerd.sock"}
		c.change(&cfg)
		_, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %s", c.name, err, c.want)
		}
	}
	if err := (Config{}).withDefaults().Validate(); err != nil {
		t.Fatalf("the defaults: %v", err)
	}
}
