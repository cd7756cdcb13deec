package proxy

import (
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"
)

// TestNewRefusesBadOptions: options the proxy cannot run with are New's
// error, naming the flag (a zero full sync interval made Run panic in
// NewTicker; a proxy without a node name took no endpoint as local).
func TestNewRefusesBadOptions(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{"zero full sync interval", func(o *Options) { o.Runner.FullSyncInterval = 0 }, "--proxy-full-sync-interval"},
		{"negative min sync interval", func(o *Options) { o.Runner.MinSyncInterval = -1 }, "--proxy-min-sync-interval"},
		{"no node name", func(o *Options) { o.NodeName = "" }, "--node-name"},
		{"negative node IP interval", func(o *Options) { o.NodeIPInterval = -1 }, "NodeIPInterval"},
		{"invalid node port address", func(o *Options) { o.NodeIPs = []netip.Addr{{}} }, "--nodeport-addresses"},
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, c := range cases {
		opts := Options{NodeName: "n1", Runner: DefaultRunnerConfig()}
		c.change(&opts)
		_, err := New(fake.NewClientset(), &recordingBackend{}, opts, log)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %s", c.name, err, c.want)
		}
	}
	if _, err := New(fake.NewClientset(), &recordingBackend{}, Options{NodeName: "n1", Runner: DefaultRunnerConfig()}, log); err != nil {
		t.Fatalf("the defaults: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for bit, ok := range map[int]bool{-1: false, 0: true, 14: true, 31: true, 32: false} {
		c := DefaultConfig()
		c.MasqueradeBit = bit
		if err := c.Validate(); (err == nil) != ok || err != nil && !strings.Contains(err.Error(), "--masquerade-bit") {
			t.Errorf("masquerade bit %d: %v", bit, err)
		}
	}
}
