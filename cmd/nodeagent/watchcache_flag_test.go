package main

import "testing"

// --watch-cache is on unless turned off, on the command line or in the
// config file (kube-apiserver's --watch-cache=false escape hatch).
func TestWatchCacheFlag(t *testing.T) {
	header := "apiVersion: nodeagent.io/v1alpha1\nkind: NodeAgentConfiguration\n"
	for _, c := range []struct {
		args []string
		off  bool
	}{
		{nil, false},
		{[]string{"--watch-cache=false"}, true},
		{[]string{"--watch-cache"}, false},
		{[]string{"--config", writeConfig(t, 0o600, header+"server:\n  watch-cache: false\n")}, true},
	} {
		cfg, _, err := parseServer(t, c.args...)
		if err != nil || cfg.NoWatchCache != c.off {
			t.Errorf("%q: watch cache off %v, want %v (%v)", c.args, cfg.NoWatchCache, c.off, err)
		}
	}
	if _, _, err := parseServer(t, "--watch-cache=sometimes"); err == nil {
		t.Error("--watch-cache=sometimes accepted")
	}
}
