package apiserver

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// TestNewRefusesABadConfig: what the server cannot run with is New's
// error, naming the flag, before storage is opened (a zero compaction
// interval was accepted and made Serve panic in time.NewTicker; port 0
// served on a random port the kubeconfigs did not name).
func TestNewRefusesABadConfig(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"zero compaction interval", func(c *Config) { c.CompactionInterval = 0 }, "--etcd-compaction-interval"},
		{"negative event TTL", func(c *Config) { c.EventTTL = -1 }, "--event-ttl"},
		{"port 0", func(c *Config) { c.Port = 0 }, "--secure-port"},
		{"bind address", func(c *Config) { c.BindAddress = "localhost" }, "--bind-address"},
		{"advertise address", func(c *Config) { c.AdvertiseAddress = "10.0.0" }, "--advertise-address"},
		{"service range", func(c *Config) { c.ServiceClusterIPRange = "10.96.0.0/30" }, "--service-cluster-ip-range"},
		{"node port range", func(c *Config) { c.ServiceNodePortRange = "32000-31000" }, "--service-node-port-range"},
		{"relative data dir", func(c *Config) { c.DataDir = "data" }, "--data-dir"},
	}
	for _, c := range cases {
		cfg := DefaultConfig()
		cfg.DataDir, cfg.BindAddress = t.TempDir(), "127.0.0.1"
		c.change(&cfg)
		srv, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err == nil {
			srv.Close()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %s", c.name, err, c.want)
		}
	}
}
