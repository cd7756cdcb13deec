package main

import (
	"flag"
	"io"
	"maps"
	"testing"
	"time"
)

// --eviction-hard replaces kubelet's default thresholds, as kubelet's
// flag does; the others keep their defaults.
func TestEvictionFlags(t *testing.T) {
	o := defaultAgentOptions()
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	agentFlags(fs, o)
	if err := fs.Parse([]string{"--eviction-hard", "memory.available<1Gi", "--eviction-soft=nodefs.available<20%",
		"--eviction-soft-grace-period", "nodefs.available=1m", "--eviction-max-pod-grace-period", "30"}); err != nil {
		t.Fatal(err)
	}
	e := o.cfg.Resources.Eviction
	if !maps.Equal(e.Hard, map[string]string{"memory.available": "1Gi"}) || e.Soft["nodefs.available"] != "20%" ||
		e.SoftGracePeriod["nodefs.available"] != "1m" || e.MaxPodGracePeriod != 30 || e.PressureTransitionPeriod != 5*time.Minute {
		t.Errorf("eviction config %+v", e)
	}
	if err := o.cfg.Validate(); err != nil {
		t.Errorf("validate: %v", err)
	}
}
