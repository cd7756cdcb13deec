package proxy

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// KubeProxyHere returns the pid of a kube-proxy process running in this
// process's network namespace, if any: the iptables mode uses its chain
// names, so nodeagent must not remove KUBE-* chains it did not make.
// procRoot is /proc (a directory tree in tests).
func KubeProxyHere(procRoot string) (int, bool) {
	self, err := os.Readlink(filepath.Join(procRoot, "self", "ns", "net"))
	if err != nil {
		return 0, false
	}
	entries, _ := os.ReadDir(procRoot)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !isKubeProxy(filepath.Join(procRoot, e.Name())) {
			continue
		}
		if ns, err := os.Readlink(filepath.Join(procRoot, e.Name(), "ns", "net")); err == nil && ns == self {
			return pid, true
		}
	}
	return 0, false
}

func isKubeProxy(procDir string) bool {
	comm, err := os.ReadFile(filepath.Join(procDir, "comm"))
	return err == nil && strings.TrimSpace(string(comm)) == "kube-proxy"
}
