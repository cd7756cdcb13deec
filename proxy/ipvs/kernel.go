package ipvs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// DefaultProcFile exists once the kernel's IPVS is loaded.
const DefaultProcFile = "/proc/net/ip_vs"

// NotSupportedError says the kernel has no IPVS. Test for it with
// IsNotSupported.
type NotSupportedError struct {
	// Reasons are the failed probes, in order.
	Reasons []string
}

func (e *NotSupportedError) Error() string {
	return "IPVS proxy mode needs the kernel's IPVS support (ip_vs, CONFIG_IP_VS): not available on this kernel: " +
		strings.Join(e.Reasons, "; ") +
		"; use --proxy-mode=nftables or iptables, or --proxy-mode=auto to fall back"
}

// IsNotSupported says whether err (or an error it wraps) is a
// NotSupportedError.
func IsNotSupported(err error) bool {
	var ns *NotSupportedError
	return errors.As(err, &ns)
}

// KernelProbe is what CheckKernel looks at; a nil field takes the real
// probe, tests replace them.
type KernelProbe struct {
	// ProcFile is DefaultProcFile unless set.
	ProcFile string
	// Stat reports whether a file exists (default os.Stat).
	Stat func(path string) error
	// LoadModule tries to load ip_vs (default `modprobe -q ip_vs`).
	LoadModule func(ctx context.Context) error
	// ResolveFamily looks up the generic-netlink family "IPVS" in the netns
	// at netnsPath (default: over netlink, see kernel_linux.go).
	ResolveFamily func(netnsPath string) error
}

// CheckKernel returns nil when IPVS can be programmed in the netns at
// netnsPath ("": the caller's), else a NotSupportedError naming what is
// missing and the other proxy modes. Other failures (no netns) are plain
// errors. It loads ip_vs if it is a module that is not loaded yet.
func CheckKernel(ctx context.Context, netnsPath string, p KernelProbe) error {
	p = p.withDefaults()
	var reasons []string
	if err := p.Stat(p.ProcFile); err != nil {
		loadErr := p.LoadModule(ctx)
		if err = p.Stat(p.ProcFile); err != nil {
			reasons = append(reasons, fmt.Sprintf("%s is absent (%v; loading ip_vs: %v)", p.ProcFile, err, loadErr))
		}
	}
	if err := p.ResolveFamily(netnsPath); err != nil {
		var fam *familyError
		if !errors.As(err, &fam) {
			return fmt.Errorf("check IPVS support in %q: %w", netnsPath, err)
		}
		reasons = append(reasons, fmt.Sprintf("the generic-netlink family IPVS does not resolve (%v)", fam.err))
	}
	if len(reasons) > 0 {
		return &NotSupportedError{Reasons: reasons}
	}
	return nil
}

// familyError marks a failed family lookup, as opposed to a failure to get
// into the netns at all.
type familyError struct{ err error }

func (e *familyError) Error() string { return "resolve IPVS family: " + e.err.Error() }
func (e *familyError) Unwrap() error { return e.err }

// FamilyMissing wraps a lookup error so that CheckKernel reads it as "no
// IPVS" (for ResolveFamily replacements in tests).
func FamilyMissing(err error) error { return &familyError{err: err} }

func (p KernelProbe) withDefaults() KernelProbe {
	if p.ProcFile == "" {
		p.ProcFile = DefaultProcFile
	}
	if p.Stat == nil {
		p.Stat = func(path string) error { _, err := os.Stat(path); return err }
	}
	if p.LoadModule == nil {
		p.LoadModule = loadModule
	}
	if p.ResolveFamily == nil {
		p.ResolveFamily = resolveFamily
	}
	return p
}
