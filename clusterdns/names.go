package clusterdns

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// nameKind says what a name in the cluster domain asks for.
type nameKind int

const (
	nameNone     nameKind = iota // no such name: NXDOMAIN
	nameApex                     // the domain itself, or svc./pod. below it
	nameService                  // <svc>.<ns>.svc
	nameEndpoint                 // <host>.<svc>.<ns>.svc
	namePortSRV                  // _<port>._<proto>.<svc>.<ns>.svc
	namePod                      // <a-b-c-d>.<ns>.pod
)

// clusterName is a parsed name in the cluster domain.
type clusterName struct {
	kind      nameKind
	namespace string
	service   string
	host      string     // nameEndpoint
	port      string     // namePortSRV: the port's name
	protocol  string     // namePortSRV: tcp, udp or sctp
	podIP     netip.Addr // namePod
}

// inZone says whether name (lower case, fully qualified) is domain or
// below it.
func inZone(name, domain string) bool {
	return name == domain || strings.HasSuffix(name, "."+domain)
}

// parseName reads a fully qualified, lower-case name of the domain.
func parseName(name, domain string) clusterName {
	if name == domain {
		return clusterName{kind: nameApex}
	}
	rel := strings.TrimSuffix(strings.TrimSuffix(name, domain), ".")
	labels := dns.SplitDomainName(rel)
	n := len(labels)
	if n == 1 && (labels[0] == "svc" || labels[0] == "pod") {
		return clusterName{kind: nameApex}
	}
	if n < 2 {
		return clusterName{}
	}
	switch labels[n-1] {
	case "svc":
		return parseServiceName(labels[:n-1])
	case "pod":
		return parsePodName(labels[:n-1])
	}
	return clusterName{}
}

// parseServiceName reads the labels before "svc": ns, svc.ns, host.svc.ns
// or _port._proto.svc.ns.
func parseServiceName(l []string) clusterName {
	switch len(l) {
	case 2:
		return clusterName{kind: nameService, service: l[0], namespace: l[1]}
	case 3:
		if strings.HasPrefix(l[0], "_") {
			return clusterName{}
		}
		return clusterName{kind: nameEndpoint, host: l[0], service: l[1], namespace: l[2]}
	case 4:
		port, okPort := strings.CutPrefix(l[0], "_")
		proto, okProto := strings.CutPrefix(l[1], "_")
		if !okPort || !okProto || port == "" || (proto != "tcp" && proto != "udp" && proto != "sctp") {
			return clusterName{}
		}
		return clusterName{kind: namePortSRV, port: port, protocol: proto, service: l[2], namespace: l[3]}
	}
	return clusterName{}
}

// parsePodName reads a-b-c-d.ns (IPv6: the address with dashes for colons).
func parsePodName(l []string) clusterName {
	if len(l) != 2 {
		return clusterName{}
	}
	ip, ok := undashIP(l[0])
	if !ok {
		return clusterName{}
	}
	return clusterName{kind: namePod, podIP: ip, namespace: l[1]}
}

// dashIP writes an address as a DNS label: dots (and colons) as dashes.
func dashIP(ip netip.Addr) string {
	return strings.NewReplacer(".", "-", ":", "-").Replace(ip.String())
}

// undashIP reads a label dashIP wrote.
func undashIP(label string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(strings.ReplaceAll(label, "-", ".")); err == nil && ip.Is4() {
		return ip, true
	}
	ip, err := netip.ParseAddr(strings.ReplaceAll(label, "-", ":"))
	return ip, err == nil && ip.Is6()
}

// reverseIP reads a full in-addr.arpa or ip6.arpa name (fully qualified,
// lower case).
func reverseIP(name string) (netip.Addr, bool) {
	if rest, ok := strings.CutSuffix(name, ".in-addr.arpa."); ok {
		l := strings.Split(rest, ".")
		if len(l) != 4 {
			return netip.Addr{}, false
		}
		ip, err := netip.ParseAddr(l[3] + "." + l[2] + "." + l[1] + "." + l[0])
		return ip, err == nil
	}
	if rest, ok := strings.CutSuffix(name, ".ip6.arpa."); ok {
		l := strings.Split(rest, ".")
		if len(l) != 32 {
			return netip.Addr{}, false
		}
		var b strings.Builder
		for i := 31; i >= 0; i-- {
			if len(l[i]) != 1 {
				return netip.Addr{}, false
			}
			b.WriteString(l[i])
			if i%4 == 0 && i > 0 {
				b.WriteByte(':')
			}
		}
		ip, err := netip.ParseAddr(b.String())
		return ip, err == nil && ip.Is6()
	}
	return netip.Addr{}, false
}

// isReverse says whether a name is in the reverse zones.
func isReverse(name string) bool {
	return strings.HasSuffix(name, ".in-addr.arpa.") || strings.HasSuffix(name, ".ip6.arpa.") ||
		name == "in-addr.arpa." || name == "ip6.arpa."
}
