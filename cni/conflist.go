package cni

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
)

// DefaultNetworkName names the network of the default configuration list.
const DefaultNetworkName = "nodeagent"

// DefaultConflistFile is the file the default configuration list is written to.
const DefaultConflistFile = "10-nodeagent.conflist"

// DefaultBridge is the bridge of the default network.
const DefaultBridge = "na-cni0"

// BridgeOptions shape the default bridge network.
type BridgeOptions struct {
	// PodCIDR is the range pods take addresses from, e.g. 10.244.0.0/24.
	PodCIDR netip.Prefix
	// Bridge is the bridge's name. Default "na-cni0".
	Bridge string
	// DataDir is where host-local keeps reservations. Default
	// /var/lib/nodeagent/cni/networks.
	DataDir string
}

func (o BridgeOptions) withDefaults() BridgeOptions {
	if o.Bridge == "" {
		o.Bridge = DefaultBridge
	}
	if o.DataDir == "" {
		o.DataDir = "/var/lib/nodeagent/cni/networks"
	}
	return o
}

// DefaultConflist returns the default configuration list: bridge with
// host-local IPAM, then portmap and loopback. The bridge does not
// masquerade (ipMasq false): the agent's podmasq rule masquerades only what
// leaves the cluster range, so pods on other nodes see the pod's address.
func DefaultConflist(o BridgeOptions) ([]byte, error) {
	if !o.PodCIDR.IsValid() {
		return nil, fmt.Errorf("cni: a pod CIDR is needed for the default network")
	}
	o = o.withDefaults()
	defaultRoute := "0.0.0.0/0"
	if o.PodCIDR.Addr().Is6() {
		defaultRoute = "::/0"
	}
	list := map[string]any{
		"cniVersion": "1.0.0",
		"name":       DefaultNetworkName,
		"plugins": []any{
			map[string]any{
				"type": "bridge", "bridge": o.Bridge,
				"isGateway": true, "ipMasq": false, "hairpinMode": true,
				"ipam": map[string]any{
					"type":    "host-local",
					"ranges":  [][]map[string]string{{{"subnet": o.PodCIDR.Masked().String()}}},
					"routes":  []map[string]string{{"dst": defaultRoute}},
					"dataDir": o.DataDir,
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
			map[string]any{"type": "loopback"},
		},
	}
	return json.MarshalIndent(list, "", "  ")
}

// WriteDefaultIfMissing writes the default configuration list into confDir
// unless confDir already holds a configuration. It reports whether it wrote.
func WriteDefaultIfMissing(confDir string, o BridgeOptions) (bool, error) {
	if files, err := confFiles(confDir); err != nil || len(files) > 0 {
		return false, err
	}
	data, err := DefaultConflist(o)
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(confDir, 0o755); err != nil {
		return false, err
	}
	path := filepath.Join(confDir, DefaultConflistFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return false, err
	}
	return true, os.Rename(tmp, path)
}

// MasqueradesAll reports whether the configuration in confDir that pods
// are attached with is a default list written by an older nodeagent, whose
// bridge masquerades all that leaves the node's pod range (ipMasq true),
// traffic to other nodes' pods included. Such a file is kept: the agent
// writes the default only where there is none.
func MasqueradesAll(confDir string) (bool, error) {
	files, err := confFiles(confDir)
	if err != nil || len(files) == 0 || filepath.Base(files[0]) != DefaultConflistFile {
		return false, err
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		return false, err
	}
	var list struct {
		Name    string `json:"name"`
		Plugins []struct {
			Type   string `json:"type"`
			IPMasq bool   `json:"ipMasq"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return false, fmt.Errorf("cni: %s: %w", files[0], err)
	}
	ours := list.Name == DefaultNetworkName && len(list.Plugins) > 0 && list.Plugins[0].Type == "bridge"
	return ours && list.Plugins[0].IPMasq, nil
}
