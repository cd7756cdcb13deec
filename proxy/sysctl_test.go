package proxy

import (
	"os"
	"path/filepath"
	"testing"
)

func TestEnsureSysctls(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "net/ipv4"), 0o755)
	os.WriteFile(filepath.Join(root, "net/ipv4/ip_forward"), []byte("0\n"), 0o644)
	err := ensureSysctls(root, map[string]string{"net/ipv4/ip_forward": "1", "net/bridge/bridge-nf-call-iptables": "1"})
	if err == nil {
		t.Fatal("a missing sysctl (no bridge netfilter) must be reported")
	}
	if b, _ := os.ReadFile(filepath.Join(root, "net/ipv4/ip_forward")); string(b) != "1" {
		t.Fatalf("ip_forward = %q", b)
	}
}
