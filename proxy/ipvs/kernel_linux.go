package ipvs

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// loadModule runs modprobe, bounded in time.
func loadModule(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "modprobe", "-q", "ip_vs").CombinedOutput()
	if msg := strings.TrimSpace(string(out)); err != nil && msg != "" {
		return fmt.Errorf("modprobe ip_vs: %w: %s", err, msg)
	}
	return wrap(err, "modprobe ip_vs")
}

// resolveFamily asks the netns's generic-netlink controller for the IPVS
// family (what moby/ipvs needs and, when it fails, only logs).
func resolveFamily(netnsPath string) error {
	h, err := openNetlink(netnsPath, unix.NETLINK_GENERIC)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := h.SetSocketTimeout(5 * time.Second); err != nil {
		return fmt.Errorf("netlink socket timeout: %w", err)
	}
	if _, err := h.GenlFamilyGet("IPVS"); err != nil {
		return FamilyMissing(err)
	}
	return nil
}
