package agent

import (
	"net"
	"net/netip"
)

func mustPrefix(s string) netip.Prefix {
	p, _ := netip.ParsePrefix(s)
	return p
}

// firstIPv4 is the first non-loopback IPv4 address of this network
// namespace, or 127.0.0.1.
// NodeIP is the InternalIP the agent reports (and its serving certificate
// must cover): cfg.NodeIP, or the first non-loopback IPv4 address.
func NodeIP(cfg Config) string {
	if cfg.NodeIP != "" {
		return cfg.NodeIP
	}
	return firstIPv4()
}

func firstIPv4() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.String()
		}
	}
	return "127.0.0.1"
}
