package ipvs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"k8s.io/utils/clock"
)

// NewReal checks the kernel (CheckKernel: IsNotSupported(err) on a kernel
// without IPVS), sets RequiredSysctls and builds a backend on the real
// handle, netlink and iptables, all in cfg.NetNSPath.
func NewReal(ctx context.Context, cfg Config, logger *slog.Logger) (*Backend, error) {
	return newReal(ctx, cfg, logger, KernelProbe{}, ProcSysctl{NetNSPath: cfg.NetNSPath})
}

// newReal is NewReal with the kernel probe and the sysctl writer given.
func newReal(ctx context.Context, cfg Config, logger *slog.Logger, p KernelProbe, sysctl SysctlWriter) (*Backend, error) {
	if err := CheckKernel(ctx, cfg.NetNSPath, p); err != nil {
		return nil, err
	}
	if err := SetSysctls(sysctl); err != nil {
		return nil, fmt.Errorf("ipvs in %q: %w", cfg.NetNSPath, err)
	}
	links, err := NewLinks(cfg.NetNSPath)
	if err != nil {
		return nil, err
	}
	rules, err := NewRules(cfg.NetNSPath)
	if err != nil {
		return nil, err
	}
	h, err := NewHandle(cfg.NetNSPath)
	if err != nil {
		return nil, err
	}
	b, err := New(cfg, Deps{Handle: h, Links: links, Rules: rules, Sets: NewSets(cfg.NetNSPath), Clock: clock.RealClock{}, Logger: logger})
	if err != nil {
		h.Close()
	}
	return b, err
}

// CleanupLeftovers is `nodeagent proxy --cleanup` for IPVS mode, usable
// whatever mode ran before: it removes the virtual servers in netnsPath
// (skipped, not an error, when the kernel has no IPVS: there can be none),
// the dummy link, the companion chains and the ipsets.
func CleanupLeftovers(ctx context.Context, netnsPath string, logger *slog.Logger) error {
	var errs []error
	switch err := CheckKernel(ctx, netnsPath, KernelProbe{}); {
	case IsNotSupported(err):
		logger.Debug("no IPVS in this kernel: no virtual servers to remove", "reason", err)
	case err != nil:
		errs = append(errs, err)
	default:
		errs = append(errs, cleanupServices(netnsPath))
	}
	if links, err := NewLinks(netnsPath); err != nil {
		errs = append(errs, err)
	} else {
		errs = append(errs, links.DeleteLink())
		links.Close()
	}
	if rules, err := NewRules(netnsPath); err != nil {
		errs = append(errs, err)
	} else if err := rules.Cleanup(); err != nil {
		errs = append(errs, err)
	} else {
		errs = append(errs, destroySets(NewSets(netnsPath))) // once no rule refers to them
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ipvs cleanup: %w", err)
	}
	return nil
}

func cleanupServices(netnsPath string) error {
	h, err := NewHandle(netnsPath)
	if err != nil {
		return err
	}
	defer h.Close()
	return deleteAllServices(h)
}
