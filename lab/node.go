package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/nodeagent/nodeagent/internal/nsutil"
)

// Node is a lab node that exists on this machine.
type Node struct {
	cfg Config
}

// Up creates the lab node. It fails if a lab of that name already exists.
// On failure it removes whatever it had made.
func Up(cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(cfg.NetNSPath()); err == nil {
		return nil, fmt.Errorf("lab %s already exists (%s); remove it with `nodeagent lab down %s`", cfg.Name, cfg.NetNSPath(), cfg.Name)
	}
	n := &Node{cfg: cfg}
	if err := n.build(); err != nil {
		return nil, errors.Join(fmt.Errorf("lab %s: %w", cfg.Name, err), n.Down())
	}
	return n, nil
}

// Open returns the existing lab node described by cfg.
func Open(cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(cfg.NetNSPath()); err != nil {
		return nil, fmt.Errorf("lab %s: %w", cfg.Name, err)
	}
	return &Node{cfg: cfg}, nil
}

func (n *Node) build() error {
	if err := os.MkdirAll(n.cfg.StateDir(), 0o700); err != nil {
		return err
	}
	if _, err := nsutil.Create(n.cfg.NetNSDir, n.cfg.NetNSName()); err != nil {
		return err
	}
	h, err := n.netlinkHandle()
	if err != nil {
		return err
	}
	defer h.Close()
	return wireLinks(h, n.cfg)
}

// wireLinks brings lo up and routes the service CIDR into an empty bridge.
func wireLinks(h *netlink.Handle, cfg Config) error {
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo: %w", err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: ServiceBridge}}
	if err := h.LinkAdd(br); err != nil {
		return fmt.Errorf("add bridge %s: %w", ServiceBridge, err)
	}
	if err := h.LinkSetUp(br); err != nil {
		return fmt.Errorf("set %s up: %w", ServiceBridge, err)
	}
	dst := &net.IPNet{IP: cfg.ServiceCIDR.Addr().AsSlice(), Mask: net.CIDRMask(cfg.ServiceCIDR.Bits(), cfg.ServiceCIDR.Addr().BitLen())}
	route := &netlink.Route{LinkIndex: br.Attrs().Index, Dst: dst, Scope: netlink.SCOPE_LINK}
	if err := h.RouteAdd(route); err != nil {
		return fmt.Errorf("route %s into %s: %w", cfg.ServiceCIDR, ServiceBridge, err)
	}
	return nil
}

// Config returns the lab's configuration.
func (n *Node) Config() Config { return n.cfg }

// NetNSPath is the path of the lab node's namespace.
func (n *Node) NetNSPath() string { return n.cfg.NetNSPath() }

// StateDir is the lab's state directory, removed by Down.
func (n *Node) StateDir() string { return n.cfg.StateDir() }

// netlinkHandle returns a netlink handle bound to the lab's namespace; it
// works from any goroutine without switching namespaces.
func (n *Node) netlinkHandle() (*netlink.Handle, error) {
	ns, err := netns.GetFromPath(n.NetNSPath())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", n.NetNSPath(), err)
	}
	defer ns.Close()
	return netlink.NewHandleAt(ns)
}

// Links lists the network links inside the lab node.
func (n *Node) Links() ([]netlink.Link, error) {
	h, err := n.netlinkHandle()
	if err != nil {
		return nil, err
	}
	defer h.Close()
	return h.LinkList()
}

// NewMemberNetNS creates a namespace owned by the lab (for a pod, say).
func (n *Node) NewMemberNetNS(suffix string) (string, error) {
	return nsutil.Create(n.cfg.NetNSDir, n.cfg.MemberName(suffix))
}

// Start starts cmd inside the lab node; the caller waits for it.
func (n *Node) Start(cmd *exec.Cmd) error {
	return nsutil.Do(n.NetNSPath(), cmd.Start)
}

// Run runs cmd inside the lab node and waits for it.
func (n *Node) Run(cmd *exec.Cmd) error {
	if err := n.Start(cmd); err != nil {
		return err
	}
	return cmd.Wait()
}

// Do runs fn on a throwaway thread inside the lab node.
func (n *Node) Do(fn func() error) error { return nsutil.Do(n.NetNSPath(), fn) }

// DialContext connects from inside the lab node. It fits http.Transport.
func (n *Node) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return nsutil.DialContext(ctx, n.NetNSPath(), network, address)
}

// List returns the configurations of the labs that exist under base's paths.
func List(base Config) ([]Config, error) {
	entries, err := os.ReadDir(base.NetNSDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var labs []Config
	for _, e := range entries {
		name, ok := labName(e.Name())
		if !ok {
			continue
		}
		c := base
		c.Name = name
		labs = append(labs, c)
	}
	return labs, nil
}

// labName returns the lab name of a lab's own namespace file name.
func labName(file string) (string, bool) {
	if len(file) <= len(NetNSPrefix) || file[:len(NetNSPrefix)] != NetNSPrefix {
		return "", false
	}
	name := file[len(NetNSPrefix):]
	if !validName.MatchString(name) {
		return "", false
	}
	return name, true
}
