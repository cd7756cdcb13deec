package ipvs

import "net/netip"

// LinkName is the dummy interface that holds the service addresses, so
// that the kernel takes packets to them as local and IPVS sees them.
const LinkName = "nodeagent-ipvs0"

// Links is the netlink edge: the dummy link and the addresses bound to it.
// NewLinks is the real one (github.com/vishvananda/netlink), FakeLinks
// keeps the same state in memory.
type Links interface {
	// EnsureLink creates the dummy link if it is missing.
	EnsureLink() error
	// DeleteLink removes the link and so every address on it; a missing
	// link is not an error.
	DeleteLink() error
	// ListAddrs lists the IPv4 addresses on the link; none if it is missing.
	ListAddrs() ([]netip.Addr, error)
	// AddAddr binds a as a /32; DelAddr unbinds it (absent: no error).
	AddAddr(a netip.Addr) error
	DelAddr(a netip.Addr) error
	// Close releases the netlink socket.
	Close() error
}
