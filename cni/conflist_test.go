package cni

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultConflist(t *testing.T) {
	cases := []struct {
		cidr, route, subnet string
	}{
		{"10.244.0.0/24", "0.0.0.0/0", "10.244.0.0/24"},
		{"10.244.1.7/24", "0.0.0.0/0", "10.244.1.0/24"},
		{"fd00:10:244::/64", "::/0", "fd00:10:244::/64"},
	}
	for _, c := range cases {
		data, err := DefaultConflist(BridgeOptions{PodCIDR: netip.MustParsePrefix(c.cidr)})
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Name    string `json:"name"`
			Plugins []struct {
				Type   string          `json:"type"`
				Bridge string          `json:"bridge"`
				IPMasq json.RawMessage `json:"ipMasq"`
				IPAM   struct {
					Ranges  [][]map[string]string `json:"ranges"`
					Routes  []map[string]string   `json:"routes"`
					DataDir string                `json:"dataDir"`
				} `json:"ipam"`
			} `json:"plugins"`
		}
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatal(err)
		}
		types := []string{}
		for _, p := range got.Plugins {
			types = append(types, p.Type)
		}
		if len(types) != 3 || types[0] != "bridge" || types[1] != "portmap" || types[2] != "loopback" {
			t.Fatalf("%s: plugins %v", c.cidr, types)
		}
		ipam := got.Plugins[0].IPAM
		if ipam.Ranges[0][0]["subnet"] != c.subnet || ipam.Routes[0]["dst"] != c.route || ipam.DataDir == "" {
			t.Errorf("%s: ipam %+v", c.cidr, ipam)
		}
		// Pod-to-pod traffic keeps its source: podmasq masquerades only
		// what leaves the cluster range.
		if m := string(got.Plugins[0].IPMasq); m != "false" {
			t.Errorf("%s: bridge ipMasq %q, want false", c.cidr, m)
		}
		if got.Name != DefaultNetworkName || got.Plugins[0].Bridge != "na-cni0" {
			t.Errorf("%s: name %q bridge %q", c.cidr, got.Name, got.Plugins[0].Bridge)
		}
	}
	if _, err := DefaultConflist(BridgeOptions{}); err == nil {
		t.Fatal("no pod CIDR should be an error")
	}
}

func TestWriteDefaultKeepsExistingConfig(t *testing.T) {
	dir := t.TempDir()
	opts := BridgeOptions{PodCIDR: netip.MustParsePrefix("10.244.0.0/24")}
	if wrote, err := WriteDefaultIfMissing(dir, opts); err != nil || !wrote {
		t.Fatalf("first write: %v %v", wrote, err)
	}
	path := filepath.Join(dir, DefaultConflistFile)
	os.WriteFile(path, []byte("user edit"), 0o644)
	if wrote, err := WriteDefaultIfMissing(dir, opts); err != nil || wrote {
		t.Fatalf("second write: %v %v", wrote, err)
	}
	if b, _ := os.ReadFile(path); string(b) != "user edit" {
		t.Fatal("an existing configuration was overwritten")
	}
}

// A default list from an older nodeagent (ipMasq true) is told apart from
// today's and from a user's own list.
func TestMasqueradesAll(t *testing.T) {
	dir := t.TempDir()
	if got, err := MasqueradesAll(dir); err != nil || got {
		t.Fatalf("empty dir: %v %v", got, err)
	}
	if _, err := WriteDefaultIfMissing(dir, BridgeOptions{PodCIDR: netip.MustParsePrefix("10.244.0.0/24")}); err != nil {
		t.Fatal(err)
	}
	if got, err := MasqueradesAll(dir); err != nil || got {
		t.Fatalf("today's default: %v %v", got, err)
	}
	path := filepath.Join(dir, DefaultConflistFile)
	data, _ := os.ReadFile(path)
	old := strings.Replace(string(data), `"ipMasq": false`, `"ipMasq": true`, 1)
	if old == string(data) {
		t.Fatal("no ipMasq in the default list")
	}
	os.WriteFile(path, []byte(old), 0o644)
	if got, err := MasqueradesAll(dir); err != nil || !got {
		t.Fatalf("an older default: %v %v", got, err)
	}
	os.WriteFile(filepath.Join(dir, "05-mine.conflist"), []byte(old), 0o644) // first, and the user's
	if got, err := MasqueradesAll(dir); err != nil || got {
		t.Fatalf("a user's list first: %v %v", got, err)
	}
}
