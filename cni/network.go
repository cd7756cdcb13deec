package cni

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	types100 "github.com/containernetworking/cni/pkg/types/100"
)

// Config says where configuration, plugins and caches are.
type Config struct {
	// ConfDir holds the network configuration. Default /etc/cni/net.d.
	ConfDir string
	// PluginDirs are searched for plugin binaries. Default /opt/cni/bin and
	// /usr/lib/cni (where Debian's containernetworking-plugins puts them).
	PluginDirs []string
	// CacheDir holds libcni's cached results. Default /var/lib/nodeagent/cni/cache.
	CacheDir string
	// HostNetNS, when set, is the namespace the plugins run in (the node's).
	// Empty: the caller's own namespace.
	HostNetNS string
}

// DefaultConfig returns the default locations.
func DefaultConfig() Config {
	return Config{
		ConfDir:    "/etc/cni/net.d",
		PluginDirs: []string{"/opt/cni/bin", "/usr/lib/cni"},
		CacheDir:   "/var/lib/nodeagent/cni/cache",
	}
}

// Network is a loaded network configuration list, ready to attach pods.
type Network struct {
	cni  *libcni.CNIConfig
	list *libcni.NetworkConfigList
	file string
}

// Load reads the first configuration in cfg.ConfDir.
func Load(cfg Config) (*Network, error) {
	return load(cfg, &invoke.DefaultExec{RawExec: &invoke.RawExec{Stderr: os.Stderr}})
}

// load is Load with the plugin executor injected (tests pass a fake).
func load(cfg Config, exec invoke.Exec) (*Network, error) {
	files, err := confFiles(cfg.ConfDir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("cni: no network configuration in %s", cfg.ConfDir)
	}
	list, err := loadFile(files[0])
	if err != nil {
		return nil, fmt.Errorf("cni: %s: %w", files[0], err)
	}
	if cfg.HostNetNS != "" {
		exec = &netnsExec{Exec: exec, netns: cfg.HostNetNS}
	}
	return &Network{
		cni:  libcni.NewCNIConfigWithCacheDir(cfg.PluginDirs, cfg.CacheDir, exec),
		list: list,
		file: files[0],
	}, nil
}

// Name is the network's name.
func (n *Network) Name() string { return n.list.Name }

// File is the configuration file the network was loaded from.
func (n *Network) File() string { return n.file }

// Attachment identifies one pod interface on the network.
type Attachment struct {
	ContainerID  string // the sandbox's ID
	NetNS        string // path of the pod's network namespace
	IfName       string // interface name in the pod; default eth0
	PodNamespace string
	PodName      string
	PodUID       string
	PortMappings []PortMapping // hostPorts, for the portMappings capability
}

// PortMapping is one hostPort, as the portmap plugin takes it.
type PortMapping struct {
	HostPort      int32  `json:"hostPort"`
	ContainerPort int32  `json:"containerPort"`
	Protocol      string `json:"protocol"`
	HostIP        string `json:"hostIP,omitempty"`
}

func (a Attachment) runtimeConf() *libcni.RuntimeConf {
	ifName := a.IfName
	if ifName == "" {
		ifName = "eth0"
	}
	rt := &libcni.RuntimeConf{
		ContainerID: a.ContainerID,
		NetNS:       a.NetNS,
		IfName:      ifName,
		Args: [][2]string{
			{"IgnoreUnknown", "1"},
			{"K8S_POD_NAMESPACE", a.PodNamespace},
			{"K8S_POD_NAME", a.PodName},
			{"K8S_POD_INFRA_CONTAINER_ID", a.ContainerID},
			{"K8S_POD_UID", a.PodUID},
		},
	}
	if len(a.PortMappings) > 0 {
		rt.CapabilityArgs = map[string]any{"portMappings": a.PortMappings}
	}
	return rt
}

// Add attaches the pod and returns the addresses it was given.
func (n *Network) Add(ctx context.Context, a Attachment) ([]netip.Prefix, error) {
	res, err := n.cni.AddNetworkList(ctx, n.list, a.runtimeConf())
	if err != nil {
		return nil, fmt.Errorf("cni add %s for %s/%s: %w", n.list.Name, a.PodNamespace, a.PodName, err)
	}
	r, err := types100.NewResultFromResult(res)
	if err != nil {
		return nil, fmt.Errorf("cni add %s: result: %w", n.list.Name, err)
	}
	return resultIPs(r), nil
}

// resultIPs returns the addresses assigned to interfaces inside the pod.
func resultIPs(r *types100.Result) []netip.Prefix {
	var out []netip.Prefix
	for _, ip := range r.IPs {
		if ip.Interface != nil && (*ip.Interface < 0 || *ip.Interface >= len(r.Interfaces) || r.Interfaces[*ip.Interface].Sandbox == "") {
			continue
		}
		addr, ok := netip.AddrFromSlice(ip.Address.IP)
		if !ok {
			continue
		}
		ones, _ := ip.Address.Mask.Size()
		out = append(out, netip.PrefixFrom(addr.Unmap(), ones))
	}
	return out
}

// Del detaches the pod. If the pod's namespace no longer exists, the plugins
// still run (with no namespace) so that addresses and rules are released.
func (n *Network) Del(ctx context.Context, a Attachment) error {
	if _, err := os.Stat(a.NetNS); errors.Is(err, os.ErrNotExist) {
		a.NetNS = ""
	}
	if err := n.cni.DelNetworkList(ctx, n.list, a.runtimeConf()); err != nil {
		return fmt.Errorf("cni del %s for %s/%s: %w", n.list.Name, a.PodNamespace, a.PodName, err)
	}
	return nil
}

// Check asks the plugins whether the attachment is still as they made it.
func (n *Network) Check(ctx context.Context, a Attachment) error {
	if err := n.cni.CheckNetworkList(ctx, n.list, a.runtimeConf()); err != nil {
		return fmt.Errorf("cni check %s for %s/%s: %w", n.list.Name, a.PodNamespace, a.PodName, err)
	}
	return nil
}

// confFiles lists the configuration files in dir, sorted by name.
func confFiles(dir string) ([]string, error) {
	files, err := libcni.ConfFiles(dir, []string{".conf", ".conflist", ".json"})
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return files, err
}

// loadFile reads a .conflist, or wraps a single-plugin .conf in a list.
func loadFile(path string) (*libcni.NetworkConfigList, error) {
	if list, err := libcni.NetworkConfFromFile(path); err == nil {
		return list, nil
	}
	conf, err := libcni.ConfFromFile(path)
	if err != nil {
		return nil, err
	}
	return libcni.ConfListFromConf(conf)
}
