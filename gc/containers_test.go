package gc

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nodeagent/nodeagent/cri"
)

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// A crash-looping container keeps its running instance and the one before
// it; the older ones go with their logs, rotated files included, and the
// agent hears of each.
func TestContainerGCKeepsOneDeadInstance(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	sb := e.sandbox("a")
	var cs []cri.Container
	for i := 0; i < 5; i++ {
		cs = append(cs, e.run(sb, "a", "c", "img", i, i < 4))
	}
	rotated := cs[0].LogPath + ".20261206-115900.000000000"
	os.WriteFile(rotated, []byte("old\n"), 0o600)
	st, _, err := e.m.GarbageCollect(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	left := e.containerIDs()
	for i, c := range cs {
		if want := i >= 3; left[c.ID] != want || exists(c.LogPath) != want {
			t.Errorf("instance %d (%s): kept %v, log kept %v; want %v", i, c.State, left[c.ID], exists(c.LogPath), want)
		}
	}
	if exists(rotated) {
		t.Error("a removed container's rotated log is still there")
	}
	if st.Containers != 3 || !slices.Equal(e.gone, []string{cs[0].ID, cs[1].ID, cs[2].ID}) {
		t.Errorf("stats %+v, agent told of %v", st, e.gone)
	}
	// Nothing more goes on the next pass.
	if st, _, _ := e.m.GarbageCollect(e.ctx); st != (ContainerStats{}) {
		t.Errorf("second pass: %+v", st)
	}
}

// A deleted pod's dead containers go once the agent knows every pod; its
// sandbox is the agent's teardown; its log directory goes when nothing of
// the pod is left in the runtime.
func TestContainerGCDeletedPod(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	sb := e.sandbox("b")
	c0, c1 := e.run(sb, "b", "c", "img", 0, true), e.run(sb, "b", "c", "img", 1, true)
	dir := filepath.Dir(filepath.Dir(c0.LogPath))
	e.pods.deleted["b"] = true
	e.pods.ready = false
	// Until the agent knows every pod, only the per-container limit.
	if st, _, _ := e.m.GarbageCollect(e.ctx); st.Containers != 1 || !e.containerIDs()[c1.ID] {
		t.Fatalf("before the sources are ready: %+v, containers left %v", st, e.containerIDs())
	}
	e.pods.ready = true
	st, _, err := e.m.GarbageCollect(e.ctx)
	if err != nil || st.Containers != 1 || len(e.containerIDs()) != 0 {
		t.Fatalf("deleted pod: %+v %v, containers left %v", st, err, e.containerIDs())
	}
	if !exists(dir) {
		t.Fatal("the log directory went while the pod's sandbox is there")
	}
	if sbs, _ := e.rt.ListPodSandboxes(e.ctx, nil); len(sbs) != 1 {
		t.Fatalf("sandboxes %v: a deleted pod's sandbox is the agent's to remove", sbs)
	}
	e.rt.StopPodSandbox(e.ctx, sb)
	e.rt.RemovePodSandbox(e.ctx, sb) // the agent's teardown, which could not remove the logs
	if st, _, _ := e.m.GarbageCollect(e.ctx); st.LogDirs != 1 || exists(dir) {
		t.Errorf("orphaned log directory: %+v, still there %v", st, exists(dir))
	}
}

// Only the log directories of deleted pods go, never another's or a file.
func TestContainerGCLeavesOtherLogDirs(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	e.pods.deleted["gone"] = true
	keep := []string{"ns_pod_alive", "notapoddir", "ns_pod_gone.txt"}
	for _, d := range keep[:2] {
		os.MkdirAll(filepath.Join(e.logDir, d), 0o755)
	}
	os.WriteFile(filepath.Join(e.logDir, keep[2]), nil, 0o600)
	os.MkdirAll(filepath.Join(e.logDir, "ns_pod_gone", "c"), 0o755)
	if _, _, err := e.m.GarbageCollect(e.ctx); err != nil {
		t.Fatal(err)
	}
	for _, d := range keep {
		if !exists(filepath.Join(e.logDir, d)) {
			t.Errorf("%s was removed", d)
		}
	}
	if exists(filepath.Join(e.logDir, "ns_pod_gone")) {
		t.Error("the deleted pod's log directory is still there")
	}
}

// A container whose log is outside the pod log directory goes, but its
// log is not touched.
func TestContainerGCTouchesNoLogOutsideTheLogDir(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	sb := e.sandbox("a")
	outside := filepath.Join(t.TempDir(), "0.log")
	e.rt.AddImage("img")
	id, _ := e.rt.CreateContainer(e.ctx, sb, cri.ContainerConfig{Name: "c", Image: "img", LogPath: outside,
		Labels: map[string]string{cri.LabelContainerName: "c", cri.LabelAttempt: "0"}})
	e.rt.StartContainer(e.ctx, id)
	e.rt.WriteLog(id, "stdout", "x")
	e.rt.ExitContainer(id, 0, "")
	e.run(sb, "a", "c", "img", 1, true)
	e.run(sb, "a", "c", "img", 2, true)
	if _, _, err := e.m.GarbageCollect(e.ctx); err != nil {
		t.Fatal(err)
	}
	if e.containerIDs()[id] || !exists(outside) {
		t.Errorf("container kept %v, outside log kept %v; want false, true", e.containerIDs()[id], exists(outside))
	}
}

// Sandboxes that are not ready and hold nothing go, but a pod's newest.
func TestContainerGCRemovesOldSandboxes(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	old := e.sandbox("a")
	e.run(old, "a", "c", "img", 0, true)
	e.rt.StopPodSandbox(e.ctx, old)
	e.clock.Step(1)
	empty := e.sandbox("a")
	e.rt.StopPodSandbox(e.ctx, empty)
	e.clock.Step(1)
	cur := e.sandbox("a")
	e.run(cur, "a", "c", "img", 1, false)
	st, _, err := e.m.GarbageCollect(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	sbs, _ := e.rt.ListPodSandboxes(e.ctx, nil)
	var left []string
	for _, sb := range sbs {
		left = append(left, sb.ID)
	}
	slices.Sort(left)
	want := []string{old, cur}
	slices.Sort(want)
	if st.Sandboxes != 1 || !slices.Equal(left, want) {
		t.Errorf("stats %+v, sandboxes left %v, want %v (the one with the dead instance, and the ready one)", st, left, want)
	}
}

// DeleteAllUnusedContainers leaves only the newest instance of each
// container, whatever the limits.
func TestDeleteAllUnusedContainers(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxPerPodContainer = -1
	e := newEnv(t, cfg)
	sb := e.sandbox("a")
	for i := 0; i < 4; i++ {
		e.run(sb, "a", "c", "img", i, true)
	}
	if st, _, _ := e.m.GarbageCollect(e.ctx); st.Containers != 0 {
		t.Fatalf("no limit, yet %d removed", st.Containers)
	}
	if err := e.m.DeleteAllUnusedContainers(e.ctx); err != nil {
		t.Fatal(err)
	}
	cs, _ := e.rt.ListContainers(e.ctx, nil)
	if len(cs) != 1 || cs[0].Labels[cri.LabelAttempt] != "3" {
		t.Errorf("left %v, want the newest instance alone", cs)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, bad := range []func(*Config){
		func(c *Config) { c.ImageGCHighThresholdPercent = 101 },
		func(c *Config) { c.ImageGCLowThresholdPercent = -1 },
		func(c *Config) { c.ImageGCLowThresholdPercent = 85 },
		func(c *Config) { c.ImageMinimumGCAge = -1 },
		func(c *Config) { c.MinContainerAge = -1 },
		func(c *Config) { c.MaxPerPodContainer = 0 },
		func(c *Config) { c.PodLogDir = "relative" },
		func(c *Config) { c.PodLogDir = "/var/log/pods/" },
	} {
		cfg := DefaultConfig()
		bad(&cfg)
		if err := cfg.Validate(); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("defaults refused: %v", err)
	}
}
