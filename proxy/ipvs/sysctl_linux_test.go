package ipvs

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/nodeagent/nodeagent/internal/nsutil"
)

// NewReal's order: no sysctl on a kernel without IPVS; after CheckKernel
// succeeds, the settings are written and a failure stops the start.
func TestNewRealSetsSysctlsAfterCheckKernel(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	none, _ := probe(map[string]bool{}, nil, nil)
	f := NewFakeSysctl()
	if _, err := newReal(context.Background(), Config{}, log, none, f); !IsNotSupported(err) {
		t.Fatalf("newReal without IPVS = %v, want not supported", err)
	}
	if len(f.Writes) != 0 {
		t.Fatalf("sysctls written on a kernel without IPVS: %q", f.Writes)
	}
	ok, _ := probe(map[string]bool{DefaultProcFile: true}, nil, nil)
	f.Fail["net.ipv4.vs.expire_quiescent_template"] = syscall.EROFS
	_, err := newReal(context.Background(), Config{NetNSPath: "/run/netns/x"}, log, ok, f)
	if err == nil || !strings.Contains(err.Error(), "net.ipv4.vs.expire_quiescent_template") || !errors.Is(err, syscall.EROFS) {
		t.Fatalf("newReal with a failing sysctl = %v, want an error naming the key", err)
	}
	want := []string{"net.ipv4.vs.conntrack=1", "net.ipv4.vs.conn_reuse_mode=0", "net.ipv4.vs.expire_nodest_conn=1"}
	if !slices.Equal(f.Writes, want) {
		t.Fatalf("writes %q, want %q", f.Writes, want)
	}
}

func TestProcSysctlWritesTheFile(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "net", "ipv4", "vs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "conntrack")
	if err := os.WriteFile(file, []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := ProcSysctl{Root: root}
	if err := w.Write("net.ipv4.vs.conntrack", "1"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(file); string(b) != "1\n" {
		t.Fatalf("conntrack holds %q, want \"1\\n\"", b)
	}
	err := w.Write("net.ipv4.vs.conn_reuse_mode", "0")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "net.ipv4.vs.conn_reuse_mode") {
		t.Fatalf("missing setting: %v, want not-exist naming the key", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "conn_reuse_mode")); err == nil {
		t.Fatal("a missing setting was created")
	}
	bad := ProcSysctl{Root: root, NetNSPath: filepath.Join(root, "no-such-netns")}
	if err := bad.Write("net.ipv4.vs.conntrack", "1"); err == nil || !strings.Contains(err.Error(), "net.ipv4.vs.conntrack") {
		t.Fatalf("write in a missing netns = %v", err)
	}
}

// TestProcSysctlWritesInTheNetns: the write lands in the backend's netns,
// not the caller's (ip_forward stands in for the vs keys, which this
// project's kernels lack; both are per-netns).
func TestProcSysctlWritesInTheNetns(t *testing.T) {
	path := testNetns(t, "ipvs-sysctl")
	const key, file = "net.ipv4.ip_forward", "/proc/sys/net/ipv4/ip_forward"
	host, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	read := func() string {
		var b []byte
		if err := nsutil.Do(path, func() (err error) { b, err = os.ReadFile(file); return err }); err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	if got := read(); got != "0" {
		t.Fatalf("fresh netns ip_forward = %s, want 0", got)
	}
	if err := (ProcSysctl{NetNSPath: path}).Write(key, "1"); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != "1" {
		t.Fatalf("netns ip_forward = %s after the write, want 1", got)
	}
	if now, _ := os.ReadFile(file); string(now) != string(host) {
		t.Fatalf("host ip_forward changed from %q to %q", host, now)
	}
}
