package ipvs

import (
	"errors"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestSetSysctlsWritesWhatIPVSModeNeeds(t *testing.T) {
	f := NewFakeSysctl()
	if err := SetSysctls(f); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"net.ipv4.vs.conntrack=1",
		"net.ipv4.vs.conn_reuse_mode=0",
		"net.ipv4.vs.expire_nodest_conn=1",
		"net.ipv4.vs.expire_quiescent_template=1",
	}
	if !slices.Equal(f.Writes, want) {
		t.Fatalf("writes %q, want %q", f.Writes, want)
	}
}

func TestSetSysctlsFailureNamesTheKey(t *testing.T) {
	f := NewFakeSysctl()
	f.Fail["net.ipv4.vs.conn_reuse_mode"] = syscall.EACCES
	err := SetSysctls(f)
	if err == nil || !strings.Contains(err.Error(), "net.ipv4.vs.conn_reuse_mode") || !errors.Is(err, syscall.EACCES) {
		t.Fatalf("SetSysctls = %v, want an error naming net.ipv4.vs.conn_reuse_mode wrapping EACCES", err)
	}
	if got := f.Keys(); !slices.Equal(got, []string{"net.ipv4.vs.conntrack"}) {
		t.Errorf("written before the failure: %q, want only conntrack", got)
	}
}
