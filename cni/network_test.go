package cni

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func newTestNetwork(t *testing.T) (*Network, *fakeExec, Config) {
	t.Helper()
	dir := t.TempDir()
	cfg := Config{ConfDir: filepath.Join(dir, "net.d"), CacheDir: filepath.Join(dir, "cache"), PluginDirs: []string{"/fake"}}
	if _, err := WriteDefaultIfMissing(cfg.ConfDir, BridgeOptions{PodCIDR: netip.MustParsePrefix("10.244.0.0/24")}); err != nil {
		t.Fatal(err)
	}
	fe := &fakeExec{}
	n, err := load(cfg, fe)
	if err != nil {
		t.Fatal(err)
	}
	return n, fe, cfg
}

func testAttachment(netns string) Attachment {
	return Attachment{ContainerID: "sb1", NetNS: netns, PodNamespace: "ns1", PodName: "web", PodUID: "uid-1",
		PortMappings: []PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}}
}

func TestAddRunsTheChainAndReturnsPodIPs(t *testing.T) {
	n, fe, _ := newTestNetwork(t)
	netns := filepath.Join(t.TempDir(), "netns")
	os.WriteFile(netns, nil, 0o644)
	ips, err := n.Add(context.Background(), testAttachment(netns))
	if err != nil {
		t.Fatal(err)
	}
	if want := []netip.Prefix{netip.MustParsePrefix("10.244.0.7/24")}; !reflect.DeepEqual(ips, want) {
		t.Fatalf("ips = %v, want %v (only the sandbox interface's address)", ips, want)
	}
	if got, want := fe.commands(), []string{"ADD bridge", "ADD portmap", "ADD loopback"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("calls = %v, want %v", got, want)
	}
	first := fe.calls[0]
	wantArgs := "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=sb1;K8S_POD_UID=uid-1"
	if first.args != wantArgs || first.netns != netns {
		t.Errorf("CNI_ARGS = %q netns %q, want %q %q", first.args, first.netns, wantArgs, netns)
	}
	rc, _ := json.Marshal(fe.calls[1].stdin["runtimeConfig"])
	var got struct{ PortMappings []PortMapping }
	json.Unmarshal(rc, &got)
	if want := testAttachment("").PortMappings; !reflect.DeepEqual(got.PortMappings, want) {
		t.Errorf("portmap runtimeConfig = %s, want portMappings %+v", rc, want)
	}
	if _, ok := first.stdin["runtimeConfig"]; ok {
		t.Errorf("bridge does not declare portMappings but got runtimeConfig")
	}
}

func TestDelWithVanishedNetNSStillReleases(t *testing.T) {
	n, fe, cfg := newTestNetwork(t)
	netns := filepath.Join(t.TempDir(), "netns")
	os.WriteFile(netns, nil, 0o644)
	a := testAttachment(netns)
	if _, err := n.Add(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(filepath.Join(cfg.CacheDir, "results")); len(entries) != 1 {
		t.Fatalf("want one cached result after ADD, got %d", len(entries))
	}
	os.Remove(netns)
	fe.calls = nil
	if err := n.Del(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if got, want := fe.commands(), []string{"DEL loopback", "DEL portmap", "DEL bridge"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("calls = %v, want %v (reverse order)", got, want)
	}
	for _, c := range fe.calls {
		if c.netns != "" {
			t.Errorf("DEL %s got netns %q for a vanished namespace, want empty", c.plugin, c.netns)
		}
		if _, ok := c.stdin["prevResult"]; !ok {
			t.Errorf("DEL %s got no prevResult from the cache", c.plugin)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(cfg.CacheDir, "results")); len(entries) != 0 {
		t.Fatalf("cache not emptied by DEL: %d entries", len(entries))
	}
}

func TestAddErrorNamesThePod(t *testing.T) {
	n, fe, _ := newTestNetwork(t)
	fe.fail = map[string]error{"ADD/bridge": errors.New("no space")}
	_, err := n.Add(context.Background(), testAttachment("/nonexistent"))
	if err == nil || !strings.Contains(err.Error(), "ns1/web") || !strings.Contains(err.Error(), "no space") {
		t.Fatalf("error %v should name the pod and the cause", err)
	}
}

func TestLoadPicksFirstFileAndWrapsConf(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "20-b.conflist"), []byte(`{"cniVersion":"1.0.0","name":"b","plugins":[{"type":"bridge"}]}`), 0o644)
	os.WriteFile(filepath.Join(dir, "10-a.conf"), []byte(`{"cniVersion":"1.0.0","name":"a","type":"ptp"}`), 0o644)
	n, err := load(Config{ConfDir: dir, CacheDir: t.TempDir()}, &fakeExec{})
	if err != nil {
		t.Fatal(err)
	}
	if n.Name() != "a" || filepath.Base(n.File()) != "10-a.conf" {
		t.Fatalf("loaded %s from %s, want a from 10-a.conf", n.Name(), n.File())
	}
	if _, err := load(Config{ConfDir: t.TempDir()}, &fakeExec{}); err == nil {
		t.Fatal("an empty conf dir should be an error")
	}
}
