//go:build linux

package ipvs

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
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
	path := testNetns(t, "ipvs-check")
	var err error
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

// testNetns makes a network namespace removed when the test ends.
func testNetns(t *testing.T, name string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace")
	}
	dir := t.TempDir()
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) }) // Create makes it a mount point
	path, err := nsutil.Create(dir, fmt.Sprintf("%s-%d", name, os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := nsutil.Remove(path); err != nil {
			t.Errorf("remove netns: %v", err)
		}
	})
	return path
}

// TestRealCleanupLeftoversInNetns is `nodeagent proxy --cleanup` on a
// kernel without IPVS: it must succeed, and remove companion chains left
// in the namespace (made here without the ipvs match, which needs IPVS)
// and then the ipsets their rules matched (hairpin and the LOCAL-* sets).
func TestRealCleanupLeftoversInNetns(t *testing.T) {
	path := testNetns(t, "ipvs-cleanup")
	rules, err := NewRules(path)
	if err != nil {
		t.Skipf("no iptables: %v", err)
	}
	sets := NewSets(path)
	for _, set := range OwnSets() {
		if err := sets.EnsureSet(set); err != nil {
			t.Fatalf("ipset %s: %v", set.Name, err)
		}
	}
	companion := CompanionRules(DefaultConfig())
	hairpin := companion[0].Rules
	leftover := FixedChains()
	leftover[0].Rules = [][]string{{"-j", "MASQUERADE"}, hairpin[len(hairpin)-1]} // the set's rule, as the backend writes it
	leftover[2].Rules = companion[2].Rules                                        // the LOCAL-* marks, as written
	if err := rules.Ensure(leftover); err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	got := iptablesSave(t, path)
	for _, want := range []string{"--match-set " + LoopBackSet + " dst,dst,src", "-A " + ChainPrerouting + " -m set --match-set " + LocalNodePortSet + " dst,dst",
		"--match-set " + LocalLoadBalancerSet + " dst,dst", "-j MARK --set-xmark 0x2000/0x2000", "-A PREROUTING -m comment --comment \"nodeagent ipvs\" -j " + ChainPrerouting} {
		if !strings.Contains(got, want) {
			t.Fatalf("%q is not in:\n%s", want, got)
		}
	}
	for _, set := range []SetSpec{OwnSets()[0], OwnSets()[1], OwnSets()[3]} {
		if err := sets.DestroySet(set); err == nil {
			t.Fatalf("the kernel let ipset %s go while a rule matches it", set.Name)
		}
	}
	if err := rules.Ensure(leftover); err != nil { // idempotent: one jump, same rules
		t.Fatalf("second Ensure: %v", err)
	}
	if got := iptablesSave(t, path); strings.Count(got, "-j "+ChainPostrouting) != 1 || !strings.Contains(got, "-A "+ChainPostrouting+" -j MASQUERADE") {
		t.Fatalf("after Ensure:\n%s", got)
	}
	leftover[0].Rules = [][]string{{"-p", "tcp", "-j", "MASQUERADE"}}
	if err := rules.Ensure(leftover); err != nil {
		t.Fatalf("Ensure of changed rules: %v", err)
	}
	if got := iptablesSave(t, path); strings.Count(got, "-A "+ChainPostrouting) != 1 || !strings.Contains(got, "-A "+ChainPostrouting+" -p tcp -j MASQUERADE") {
		t.Fatalf("changed rules not rewritten:\n%s", got)
	}
	for range 2 {
		if err := CleanupLeftovers(context.Background(), path, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatalf("CleanupLeftovers: %v", err)
		}
		if got := iptablesSave(t, path); strings.Contains(got, ChainPrefix) {
			t.Fatalf("chains left after cleanup:\n%s", got)
		}
		for _, set := range OwnSets() {
			if _, err := sets.Entries(set); err == nil {
				t.Fatalf("ipset %s is left after cleanup", set.Name)
			}
		}
	}
}

func iptablesSave(t *testing.T, netnsPath string) string {
	t.Helper()
	var out []byte
	err := nsutil.Do(netnsPath, func() (err error) {
		out, err = exec.Command("iptables-save").CombinedOutput()
		return err
	})
	if err != nil {
		t.Fatalf("iptables-save: %v: %s", err, out)
	}
	return string(out)
}
