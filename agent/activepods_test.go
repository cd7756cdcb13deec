package agent

import (
	"io"
	"log/slog"
	"testing"

	"github.com/nodeagent/nodeagent/agent/cm"
	crifake "github.com/nodeagent/nodeagent/cri/fake"
)

// Cleanup's agent has no pod informer: its teardowns, which update the
// QoS cgroups from the active pods, must not need one (agent --cleanup
// panicked there).
func TestActivePodsWithoutTheAPI(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NodeName, cfg.RootDir, cfg.PodLogDir = "n1", t.TempDir(), t.TempDir()
	a, err := newAgent(cfg.withDefaults(), nil, crifake.New(), slog.New(slog.NewTextHandler(io.Discard, nil)), []Option{WithCgroups(cm.NewFake(1))})
	if err != nil {
		t.Fatal(err)
	}
	if pods := a.activePods(); len(pods) != 0 {
		t.Errorf("active pods %v, want none", pods)
	}
	a.updateQOSCgroups()
}
