package apiserver

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"path/filepath"

	"github.com/nodeagent/nodeagent/apiserver/allocator"
)

// withDefaults fills what no flag sets (the idle timeout) and an empty
// data directory from DefaultConfig; numbers a flag sets are left for
// Validate.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.DataDir == "" {
		c.DataDir = d.DataDir
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = d.IdleTimeout
	}
	if c.ServiceAccountIssuer == "" {
		c.ServiceAccountIssuer = d.ServiceAccountIssuer
	}
	if len(c.APIAudiences) == 0 {
		c.APIAudiences = []string{c.ServiceAccountIssuer}
	}
	return c
}

// Validate reports every setting the server cannot run with, naming its
// flag. New calls it, before storage is opened.
func (c Config) Validate() error {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", flag, fmt.Sprintf(format, args...)))
	}
	if !filepath.IsAbs(c.DataDir) {
		bad("--data-dir", "%q is not an absolute path", c.DataDir)
	}
	if _, err := netip.ParseAddr(c.BindAddress); err != nil {
		bad("--bind-address", "%q is not an IP address", c.BindAddress)
	}
	if c.Port < 1 || c.Port > 65535 {
		bad("--secure-port", "%d is not a port (1-65535)", c.Port)
	}
	if _, err := netip.ParseAddr(c.AdvertiseAddress); c.AdvertiseAddress != "" && err != nil {
		bad("--advertise-address", "%q is not an IP address", c.AdvertiseAddress)
	}
	if _, err := allocator.ParseIPRange(c.ServiceClusterIPRange); err != nil {
		bad("--service-cluster-ip-range", "%v", err)
	}
	if _, err := allocator.ParsePortRange(c.ServiceNodePortRange); err != nil {
		bad("--service-node-port-range", "%v", err)
	}
	if c.CompactionInterval <= 0 {
		bad("--etcd-compaction-interval", "must be positive, got %s", c.CompactionInterval)
	}
	if c.EventTTL <= 0 {
		bad("--event-ttl", "must be positive, got %s", c.EventTTL)
	}
	if c.IdleTimeout < 0 {
		bad("IdleTimeout", "must not be negative, got %s", c.IdleTimeout)
	}
	if u, err := url.Parse(c.ServiceAccountIssuer); c.ServiceAccountIssuer != "" && (err != nil || u.Scheme != "https" || u.Host == "") {
		bad("--service-account-issuer", "%q is not an https URL", c.ServiceAccountIssuer)
	}
	return errors.Join(errs...)
}
