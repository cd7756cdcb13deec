// Package lab builds "lab nodes": network namespaces that stand in for a
// machine, so that tests and the demo never send a packet from the host's own
// network namespace to a pod, service or node address.
//
// A lab node named N is the network namespace "nalab-N" holding:
//   - lo, up;
//   - no default route;
//   - an empty bridge "na-svc0" with a route for the service CIDR, so that a
//     packet to an unprogrammed ClusterIP goes nowhere;
//   - whatever the test adds: the CNI bridge and, behind it, pods.
//
// Every other namespace whose name starts with "nalab-N_" (pod namespaces made
// for the lab) belongs to it too, as does the state directory
// <StateRoot>/N (CNI IPAM reservations, caches). Down removes all of it and
// kills every process left in those namespaces.
package lab

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
)

const (
	// NetNSPrefix starts the name of every namespace a lab owns.
	NetNSPrefix = "nalab-"
	// ServiceBridge is the empty bridge that swallows unprogrammed service traffic.
	ServiceBridge = "na-svc0"
)

// Config describes one lab node. The zero values of the paths are filled in
// by DefaultConfig.
type Config struct {
	// Name identifies the lab: lower-case letters, digits and '-', at most 40.
	Name string
	// NetNSDir holds the named namespaces. Default /var/run/netns, where
	// `ip netns` sees them.
	NetNSDir string
	// StateRoot holds one directory per lab. Default /run/nodeagent/lab.
	StateRoot string
	// ServiceCIDR is routed into the empty service bridge. Default 10.96.0.0/12.
	ServiceCIDR netip.Prefix
}

// DefaultConfig returns the configuration of the lab called name.
func DefaultConfig(name string) Config {
	return Config{
		Name:        name,
		NetNSDir:    "/var/run/netns",
		StateRoot:   "/run/nodeagent/lab",
		ServiceCIDR: netip.MustParsePrefix("10.96.0.0/12"),
	}
}

var validName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$`)

// Validate reports what is wrong with the configuration, if anything.
func (c Config) Validate() error {
	if !validName.MatchString(c.Name) {
		return fmt.Errorf("lab name %q: want 1-40 lower-case letters, digits or '-', not starting or ending with '-'", c.Name)
	}
	if c.NetNSDir == "" || c.StateRoot == "" {
		return fmt.Errorf("lab %s: NetNSDir and StateRoot must be set", c.Name)
	}
	if !c.ServiceCIDR.IsValid() {
		return fmt.Errorf("lab %s: service CIDR is not set", c.Name)
	}
	return nil
}

// NetNSName is the name of the lab node's own namespace.
func (c Config) NetNSName() string { return NetNSPrefix + c.Name }

// NetNSPath is the path of the lab node's own namespace.
func (c Config) NetNSPath() string { return filepath.Join(c.NetNSDir, c.NetNSName()) }

// StateDir is the directory that holds the lab's on-disk state.
func (c Config) StateDir() string { return filepath.Join(c.StateRoot, c.Name) }

// MemberName is the name of an extra namespace (a pod's, say) owned by the lab.
func (c Config) MemberName(suffix string) string { return c.NetNSName() + "_" + suffix }

// ownsNamespace tells whether a namespace name belongs to this lab.
func (c Config) ownsNamespace(name string) bool {
	own := c.NetNSName()
	return name == own || (len(name) > len(own) && name[:len(own)+1] == own+"_")
}
