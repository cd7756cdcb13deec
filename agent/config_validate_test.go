package agent

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"

	crifake "github.com/nodeagent/nodeagent/cri/fake"
)

func validConfig() Config {
	c := DefaultConfig()
	c.NodeName = "n1"
	return c
}

// TestNewRefusesABadConfig: what the agent cannot run with is an error
// from New that names the flag, not a silent default (a bad --pod-cidr
// gave an empty default network) or a panic later (a zero relist period
// or status interval made time.NewTicker panic in Run).
func TestNewRefusesABadConfig(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no node name", func(c *Config) { c.NodeName = "" }, "--node-name"},
		{"node name with capitals", func(c *Config) { c.NodeName = "Node1" }, "--node-name"},
		{"pod CIDR not a CIDR", func(c *Config) { c.PodCIDR = "10.244.0.0/33" }, "--pod-cidr"},
		{"pod CIDR with host bits", func(c *Config) { c.PodCIDR = "10.244.0.1/24" }, "--pod-cidr"},
		{"node IP", func(c *Config) { c.NodeIP = "10.0.0" }, "--node-ip"},
		{"cluster DNS", func(c *Config) { c.ClusterDNS = "dns" }, "--cluster-dns"},
		{"port 0", func(c *Config) { c.Port = 0 }, "--port"},
		{"port too high", func(c *Config) { c.Port = 70000 }, "--port"},
		{"healthz port", func(c *Config) { c.HealthzPort = -1 }, "--healthz-port"},
		{"no workers", func(c *Config) { c.Workers = 0 }, "Workers"},
		{"no relist period", func(c *Config) { c.RelistPeriod = 0 }, "--pleg-relist-period"},
		{"max pods", func(c *Config) { c.MaxPods = 0 }, "--max-pods"},
		{"relative root dir", func(c *Config) { c.RootDir = "var/lib" }, "--root-dir"},
		{"relative plugin dir", func(c *Config) { c.CNI.PluginDirs = []string{"bin"} }, "--cni-bin-dir"},
		{"slash in the netns prefix", func(c *Config) { c.NetNSPrefix = "a/b" }, "--netns-prefix"},
		{"key without certificate", func(c *Config) { c.TLSPrivateKeyFile = "/k" }, "--tls-cert-file"},
		{"renewal beyond the lease", func(c *Config) { c.RenewInterval = c.LeaseDuration }, "RenewInterval"},
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, c := range cases {
		cfg := validConfig()
		c.change(&cfg)
		_, err := New(cfg, fake.NewClientset(), crifake.New(), log)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %s", c.name, err, c.want)
		}
	}
	if _, err := New(validConfig(), fake.NewClientset(), crifake.New(), log); err != nil {
		t.Fatalf("the defaults with a node name: %v", err)
	}
}

// TestWithDefaultsFillsOnlyWhatIsUnset: empty paths and intervals take
// the defaults; numbers a flag sets are left for Validate.
func TestWithDefaultsFillsOnlyWhatIsUnset(t *testing.T) {
	c := Config{NodeName: "n1", RootDir: "/srv/agent"}.withDefaults()
	d := DefaultConfig()
	if c.RootDir != "/srv/agent" || c.PodLogDir != d.PodLogDir || c.CNI.ConfDir != d.CNI.ConfDir || c.StatusInterval != d.StatusInterval {
		t.Fatalf("withDefaults: %+v", c)
	}
	err := c.Validate()
	for _, want := range []string{"--port", "Workers", "--pleg-relist-period"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("a zero %s is accepted: %v", want, err)
		}
	}
	// An empty pod CIDR is the Node's (the server's node IPAM).
	if err != nil && strings.Contains(err.Error(), "--pod-cidr") {
		t.Errorf("an empty --pod-cidr is refused: %v", err)
	}
}
