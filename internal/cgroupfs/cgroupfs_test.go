package cgroupfs

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRemoveTreeInEveryHierarchy(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"memory/nodeagent/n1/pod1/ctr", "cpu/nodeagent/n1", "memory/nodeagent/n2", "nodeagent/n1/podx"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	if got := len(Dirs(root, "/nodeagent/n1")); got != 3 {
		t.Fatalf("want the cgroup in memory, cpu and the unified hierarchy, got %d", got)
	}
	if err := RemoveTree(root, "/nodeagent/n1"); err != nil {
		t.Fatal(err)
	}
	if got := Dirs(root, "/nodeagent/n1"); len(got) != 0 {
		t.Fatalf("left: %v", got)
	}
	if _, err := os.Stat(filepath.Join(root, "memory/nodeagent/n2")); err != nil {
		t.Fatal("another node's cgroup must stay")
	}
	if err := RemoveTree(root, "/nodeagent/gone"); err != nil {
		t.Fatalf("a missing cgroup is not an error: %v", err)
	}
}
