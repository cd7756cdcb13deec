package proxy

import (
	"os"
	"path/filepath"
	"testing"
)

// fakeProc makes /proc-like entries: pid -> (comm, netns link target).
func fakeProc(t *testing.T, self string, procs map[string][2]string) string {
	root := t.TempDir()
	mk := func(dir, comm, ns string) {
		os.MkdirAll(filepath.Join(root, dir, "ns"), 0o755)
		if comm != "" {
			os.WriteFile(filepath.Join(root, dir, "comm"), []byte(comm+"\n"), 0o644)
		}
		os.Symlink(ns, filepath.Join(root, dir, "ns", "net"))
	}
	mk("self", "", self)
	for pid, p := range procs {
		mk(pid, p[0], p[1])
	}
	return root
}

func TestKubeProxyHere(t *testing.T) {
	root := fakeProc(t, "net:[1]", map[string][2]string{"10": {"kube-proxy", "net:[2]"}, "11": {"bash", "net:[1]"}})
	if pid, ok := KubeProxyHere(root); ok {
		t.Fatalf("a kube-proxy in another netns does not count, got pid %d", pid)
	}
	root = fakeProc(t, "net:[1]", map[string][2]string{"12": {"kube-proxy", "net:[1]"}})
	if pid, ok := KubeProxyHere(root); !ok || pid != 12 {
		t.Fatalf("want pid 12, got %d %v", pid, ok)
	}
}
