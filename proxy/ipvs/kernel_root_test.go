//go:build linux

package ipvs

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nodeagent/nodeagent/internal/nsutil"
)

// TestRealCheckKernelInNetns runs the real probes against a namespace it
// creates. On a kernel with IPVS it must pass; on this project's machines
// (no CONFIG_IP_VS) it must report not-supported with the fix, quickly.
func TestRealCheckKernelInNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace")
	}
	dir := t.TempDir()
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) }) // Create makes it a mount point
	path, err := nsutil.Create(dir, fmt.Sprintf("ipvs-check-%d", os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := nsutil.Remove(path); err != nil {
			t.Errorf("remove netns: %v", err)
		}
	})
	done := make(chan error, 1)
	go func() { done <- CheckKernel(context.Background(), path, KernelProbe{}) }()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("CheckKernel hung")
	}
	_, procErr := os.Stat(DefaultProcFile)
	if procErr == nil {
		if err != nil {
			t.Fatalf("this kernel has IPVS, but CheckKernel = %v", err)
		}
		return // this kernel has IPVS: supported is the right answer
	}
	if !IsNotSupported(err) {
		t.Fatalf("CheckKernel on a kernel without IPVS = %v, want a not-supported error", err)
	}
	for _, want := range []string{"CONFIG_IP_VS", "not available on this kernel", "--proxy-mode=nftables", "--proxy-mode=auto"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	t.Log(err)
}
