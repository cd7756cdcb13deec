package proxy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// sysctls the proxy needs in its network namespace: forwarding (DNAT'ed
// packets are forwarded), and bridged pod-to-pod traffic through netfilter
// (so that a reply from a pod on the same bridge is un-DNAT'ed).
var sysctls = map[string]string{
	"net/ipv4/ip_forward":                "1",
	"net/bridge/bridge-nf-call-iptables": "1",
}

// EnsureSysctls sets the sysctls the proxy needs (in the caller's network
// namespace); a missing bridge-netfilter is reported, not fatal.
func EnsureSysctls() error { return ensureSysctls("/proc/sys", sysctls) }

func ensureSysctls(root string, want map[string]string) error {
	var errs []error
	for key, val := range want {
		p := filepath.Join(root, key)
		cur, err := os.ReadFile(p)
		if err == nil && strings.TrimSpace(string(cur)) == val {
			continue
		}
		if err := os.WriteFile(p, []byte(val), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("set %s=%s: %w", strings.ReplaceAll(key, "/", "."), val, err))
		}
	}
	return errors.Join(errs...)
}
