package ipvs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

// probe is a KernelProbe over an in-memory set of files, recording calls.
func probe(files map[string]bool, loads map[string]bool, family error) (KernelProbe, *int) {
	loaded := 0
	return KernelProbe{
		Stat: func(path string) error {
			if files[path] {
				return nil
			}
			return fmt.Errorf("stat %s: %w", path, fs.ErrNotExist)
		},
		LoadModule: func(context.Context) error {
			loaded++
			for f := range loads {
				files[f] = true
			}
			if len(loads) == 0 {
				return errors.New("modprobe: FATAL: Module ip_vs not found")
			}
			return nil
		},
		ResolveFamily: func(string) error { return family },
	}, &loaded
}

func TestCheckKernelNoProcFile(t *testing.T) {
	p, loaded := probe(map[string]bool{}, nil, nil)
	err := CheckKernel(context.Background(), "", p)
	if !IsNotSupported(err) {
		t.Fatalf("CheckKernel = %v, want a not-supported error", err)
	}
	if *loaded != 1 {
		t.Errorf("tried to load ip_vs %d times, want 1", *loaded)
	}
	msg := err.Error()
	for _, want := range []string{
		"IPVS proxy mode needs the kernel's IPVS support (ip_vs, CONFIG_IP_VS): not available on this kernel: ",
		"/proc/net/ip_vs is absent",
		"Module ip_vs not found",
		"use --proxy-mode=nftables or iptables, or --proxy-mode=auto to fall back",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if wrapped := fmt.Errorf("proxy: %w", err); !IsNotSupported(wrapped) {
		t.Error("IsNotSupported does not see through wrapping")
	}
}

func TestCheckKernelFamilyMissing(t *testing.T) {
	p, _ := probe(map[string]bool{DefaultProcFile: true}, nil, FamilyMissing(errors.New("no such file or directory")))
	err := CheckKernel(context.Background(), "/run/netns/x", p)
	if !IsNotSupported(err) || !strings.Contains(err.Error(), "generic-netlink family IPVS does not resolve") {
		t.Fatalf("CheckKernel = %v, want not supported naming the family", err)
	}
}

func TestCheckKernelLoadsModule(t *testing.T) {
	p, loaded := probe(map[string]bool{}, map[string]bool{DefaultProcFile: true}, nil)
	if err := CheckKernel(context.Background(), "", p); err != nil {
		t.Fatalf("CheckKernel after a successful module load = %v", err)
	}
	if *loaded != 1 {
		t.Errorf("loads = %d", *loaded)
	}
}

func TestCheckKernelSupported(t *testing.T) {
	p, loaded := probe(map[string]bool{DefaultProcFile: true}, nil, nil)
	if err := CheckKernel(context.Background(), "", p); err != nil {
		t.Fatalf("CheckKernel = %v", err)
	}
	if *loaded != 0 {
		t.Error("loaded the module although it was there")
	}
}

func TestCheckKernelOtherErrorsAreNotNotSupported(t *testing.T) {
	p, _ := probe(map[string]bool{DefaultProcFile: true}, nil, errors.New("open netns /run/netns/gone: no such file"))
	err := CheckKernel(context.Background(), "/run/netns/gone", p)
	if err == nil || IsNotSupported(err) {
		t.Fatalf("CheckKernel = %v, want a plain error", err)
	}
	if IsNotSupported(nil) || IsNotSupported(errors.New("IPVS proxy mode needs the kernel's IPVS support")) {
		t.Error("IsNotSupported compares strings or accepts nil")
	}
}
