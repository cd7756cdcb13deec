package agent

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/nodeagent/nodeagent/gc"
)

// withDefaults fills the fields whose zero value can only mean "not set"
// (paths, names, and the intervals no flag sets) from DefaultConfig. Zero
// numbers that a flag sets (--port=0, --pleg-relist-period=0, Workers=0)
// are left for Validate to refuse.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	fill := func(v *string, def string) {
		if *v == "" {
			*v = def
		}
	}
	fill(&c.ClusterDomain, d.ClusterDomain)
	fill(&c.RootDir, d.RootDir)
	fill(&c.PodLogDir, d.PodLogDir)
	fill(&c.NetNSDir, d.NetNSDir)
	fill(&c.NetNSPrefix, d.NetNSPrefix)
	fill(&c.IPAMDir, d.IPAMDir)
	fill(&c.CNI.ConfDir, d.CNI.ConfDir)
	fill(&c.CNI.CacheDir, d.CNI.CacheDir)
	fill(&c.HealthzBindAddress, d.HealthzBindAddress)
	fill(&c.Resources.CgroupMount, d.Resources.CgroupMount)
	if len(c.CNI.PluginDirs) == 0 {
		c.CNI.PluginDirs = d.CNI.PluginDirs
	}
	for _, p := range []struct{ v, def *time.Duration }{
		{&c.LeaseDuration, &d.LeaseDuration}, {&c.RenewInterval, &d.RenewInterval},
		{&c.StatusInterval, &d.StatusInterval}, {&c.ManifestCheckInterval, &d.ManifestCheckInterval},
	} {
		if *p.v == 0 {
			*p.v = *p.def
		}
	}
	if c.GC == (gc.Config{}) {
		c.GC = d.GC
	}
	c.GC.PodLogDir = c.PodLogDir
	return c
}

// Validate reports every setting that the agent cannot run with, naming
// its flag (or, without one, its field).
func (c Config) Validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	for _, msg := range validation.IsDNS1123Subdomain(c.NodeName) {
		bad("--node-name", "%q: %s", c.NodeName, msg)
	}
	if c.NodeIP != "" && !isIP(c.NodeIP) {
		bad("--node-ip", "%q is not an IP address", c.NodeIP)
	}
	if c.PodCIDR != "" { // "": the Node's, from the server's node IPAM
		if p, err := netip.ParsePrefix(c.PodCIDR); err != nil {
			bad("--pod-cidr", "%q is not a CIDR: %v", c.PodCIDR, err)
		} else if p.Masked() != p {
			bad("--pod-cidr", "%q has host bits set (the range is %s)", c.PodCIDR, p.Masked())
		}
	}
	if !isIP(c.ClusterDNS) {
		bad("--cluster-dns", "%q is not an IP address", c.ClusterDNS)
	}
	for _, msg := range validation.IsDNS1123Subdomain(c.ClusterDomain) {
		bad("--cluster-domain", "%q: %s", c.ClusterDomain, msg)
	}
	errs = append(errs, c.validatePaths()...)
	errs = append(errs, c.validateNumbers()...)
	errs = append(errs, c.validateGC()...)
	if (c.TLSCertFile == "") != (c.TLSPrivateKeyFile == "") {
		bad("--tls-cert-file", "and --tls-private-key-file go together")
	}
	if c.HealthzPort != 0 && !isIP(c.HealthzBindAddress) {
		bad("--healthz-bind-address", "%q is not an IP address", c.HealthzBindAddress)
	}
	if _, err := c.Resources.Eviction.thresholds(); err != nil {
		bad("--eviction-hard/--eviction-soft", "%v", err)
	}
	if c.Resources.Eviction.MaxPodGracePeriod < 0 {
		bad("--eviction-max-pod-grace-period", "%d is negative", c.Resources.Eviction.MaxPodGracePeriod)
	}
	return errors.Join(errs...)
}

func (c Config) validatePaths() []error {
	var errs []error
	for _, p := range []struct{ flag, path string }{
		{"--root-dir", c.RootDir}, {"--pod-log-dir", c.PodLogDir}, {"--netns-dir", c.NetNSDir},
		{"--cni-ipam-dir", c.IPAMDir}, {"--cni-conf-dir", c.CNI.ConfDir}, {"--cni-cache-dir", c.CNI.CacheDir},
	} {
		if !filepath.IsAbs(p.path) {
			errs = append(errs, fmt.Errorf("%s: %q is not an absolute path", p.flag, p.path))
		}
	}
	for _, d := range c.CNI.PluginDirs {
		if !filepath.IsAbs(d) {
			errs = append(errs, fmt.Errorf("--cni-bin-dir: %q is not an absolute path", d))
		}
	}
	if c.PodManifestPath != "" && !filepath.IsAbs(c.PodManifestPath) {
		errs = append(errs, fmt.Errorf("--pod-manifest-path: %q is not an absolute path", c.PodManifestPath))
	}
	if strings.ContainsRune(c.NetNSPrefix, '/') {
		errs = append(errs, fmt.Errorf("--netns-prefix: %q may not contain a slash", c.NetNSPrefix))
	}
	return errs
}

func (c Config) validateNumbers() []error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	if c.Port < 1 || c.Port > 65535 {
		bad("--port", "%d is not a port (1-65535)", c.Port)
	}
	if c.HealthzPort < 0 || c.HealthzPort > 65535 {
		bad("--healthz-port", "%d is not a port (1-65535, or 0 for none)", c.HealthzPort)
	}
	if err := c.Shutdown.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.MaxPods < 1 {
		bad("--max-pods", "must be at least 1, got %d", c.MaxPods)
	}
	if c.Workers < 1 {
		bad("Workers", "must be at least 1, got %d", c.Workers)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"--pleg-relist-period", c.RelistPeriod}, {"LeaseDuration", c.LeaseDuration}, {"RenewInterval", c.RenewInterval},
		{"StatusInterval", c.StatusInterval}, {"ManifestCheckInterval", c.ManifestCheckInterval},
	} {
		if d.v <= 0 {
			bad(d.name, "must be positive, got %s", d.v)
		}
	}
	if c.RenewInterval >= c.LeaseDuration {
		bad("RenewInterval", "%s must be shorter than LeaseDuration %s", c.RenewInterval, c.LeaseDuration)
	}
	return errs
}

// validateGC refuses the collectors' and the log rotation's settings as
// kubelet refuses them.
func (c Config) validateGC() []error {
	var errs []error
	if err := c.GC.Validate(); err != nil {
		errs = append(errs, err)
	}
	r := c.ContainerLogRotation
	if r.MaxSize < 0 {
		errs = append(errs, fmt.Errorf("invalid configuration: containerLogMaxSize (--container-log-max-size) %d must not be negative", r.MaxSize))
	}
	if r.Enabled() && r.MaxFiles <= 1 {
		errs = append(errs, fmt.Errorf("invalid configuration: containerLogMaxFiles (--container-log-max-files) %d must be greater than 1", r.MaxFiles))
	}
	return errs
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}
