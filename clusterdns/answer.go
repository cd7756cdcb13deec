package clusterdns

import (
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// answerer answers questions about the cluster domain from Records.
type answerer struct {
	records Records
	domain  string // fully qualified, lower case: "cluster.local."
	ttl     uint32
}

// reply is an answer: its rcode and records.
type reply struct {
	rcode  int
	answer []dns.RR
	extra  []dns.RR
}

var nxdomain = reply{rcode: dns.RcodeNameError}

// answer answers q, whose name is in the domain.
func (a *answerer) answer(q dns.Question) reply {
	name := strings.ToLower(q.Name)
	n := parseName(name, a.domain)
	switch n.kind {
	case nameApex:
		return a.apex(q)
	case nameService:
		return a.service(q, n)
	case nameEndpoint:
		return a.endpoint(q, n)
	case namePortSRV:
		return a.portSRV(q, n)
	case namePod:
		return reply{answer: a.addresses(q, []netip.Addr{n.podIP})}
	}
	return nxdomain
}

func (a *answerer) apex(q dns.Question) reply {
	switch q.Qtype {
	case dns.TypeSOA:
		return reply{answer: []dns.RR{a.soa()}}
	case dns.TypeNS:
		return reply{answer: []dns.RR{&dns.NS{Hdr: a.hdr(a.domain, dns.TypeNS), Ns: "ns.dns." + a.domain}}}
	}
	return reply{}
}

// service answers <svc>.<ns>.svc.<domain>.
func (a *answerer) service(q dns.Question, n clusterName) reply {
	svc, ok := a.records.Service(n.namespace, n.service)
	if !ok {
		return nxdomain
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return reply{answer: []dns.RR{&dns.CNAME{Hdr: a.hdr(q.Name, dns.TypeCNAME), Target: dns.Fqdn(svc.Spec.ExternalName)}}}
	}
	if q.Qtype == dns.TypeSRV {
		return a.srv(q, svc, "", "")
	}
	if isHeadless(svc) {
		var ips []netip.Addr
		for _, ep := range a.endpoints(svc) {
			ips = append(ips, ep.ip)
		}
		return reply{answer: a.addresses(q, ips)}
	}
	return reply{answer: a.addresses(q, clusterIPs(svc))}
}

// endpoint answers <host>.<svc>.<ns>.svc.<domain> of a headless Service.
func (a *answerer) endpoint(q dns.Question, n clusterName) reply {
	svc, ok := a.records.Service(n.namespace, n.service)
	if !ok || !isHeadless(svc) {
		return nxdomain
	}
	var ips []netip.Addr
	for _, ep := range a.endpoints(svc) {
		if ep.label == n.host {
			ips = append(ips, ep.ip)
		}
	}
	if len(ips) == 0 {
		return nxdomain
	}
	return reply{answer: a.addresses(q, ips)}
}

// portSRV answers _<port>._<proto>.<svc>.<ns>.svc.<domain>.
func (a *answerer) portSRV(q dns.Question, n clusterName) reply {
	svc, ok := a.records.Service(n.namespace, n.service)
	if !ok || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nxdomain
	}
	r := a.srv(q, svc, n.port, n.protocol)
	if q.Qtype == dns.TypeSRV && len(r.answer) == 0 {
		return nxdomain
	}
	if q.Qtype != dns.TypeSRV && !hasPort(svc, n.port, n.protocol) {
		return nxdomain
	}
	return r
}

// srv is the SRV records of svc's named ports (of this name and protocol,
// or all), with the targets' addresses as extra records.
func (a *answerer) srv(q dns.Question, svc *corev1.Service, port, proto string) reply {
	if q.Qtype != dns.TypeSRV {
		return reply{}
	}
	var r reply
	fqdn := a.serviceFQDN(svc)
	for _, p := range svc.Spec.Ports {
		if p.Name == "" || (port != "" && (p.Name != port || strings.ToLower(string(p.Protocol)) != proto)) {
			continue
		}
		if !isHeadless(svc) {
			r.answer = append(r.answer, a.srvRR(q.Name, fqdn, uint16(p.Port), 1))
			r.extra = append(r.extra, a.addressRRs(fqdn, clusterIPs(svc))...)
			continue
		}
		eps := a.endpoints(svc)
		for _, ep := range eps {
			for _, num := range ep.ports[portKey(p.Name, p.Protocol)] {
				target := ep.label + "." + fqdn
				r.answer = append(r.answer, a.srvRR(q.Name, target, num, len(eps)))
				r.extra = append(r.extra, a.addressRRs(target, []netip.Addr{ep.ip})...)
			}
		}
	}
	return r
}

func (a *answerer) srvRR(name, target string, port uint16, n int) dns.RR {
	weight := 100 / max(n, 1)
	return &dns.SRV{Hdr: a.hdr(name, dns.TypeSRV), Priority: 0, Weight: uint16(max(weight, 1)), Port: port, Target: target}
}

// ptr answers a reverse name in the cluster: a ClusterIP's Service, a
// headless endpoint's name. ok is false when the address is not known.
func (a *answerer) ptr(q dns.Question, ip netip.Addr) (reply, bool) {
	var names []string
	for _, svc := range a.records.ServicesByIP(ip) {
		names = append(names, a.serviceFQDN(svc))
	}
	if len(names) == 0 {
		names = a.endpointNames(ip)
	}
	if len(names) == 0 {
		return reply{}, false
	}
	if q.Qtype != dns.TypePTR {
		return reply{}, true
	}
	var r reply
	for _, n := range names {
		r.answer = append(r.answer, &dns.PTR{Hdr: a.hdr(q.Name, dns.TypePTR), Ptr: n})
	}
	return r, true
}

// endpointNames are the names of ip as an endpoint of headless Services.
func (a *answerer) endpointNames(ip netip.Addr) []string {
	var names []string
	seen := map[string]bool{}
	for _, es := range a.records.SlicesByAddress(ip) {
		svc, ok := a.records.Service(es.Namespace, es.Labels[discoveryv1.LabelServiceName])
		if !ok || !isHeadless(svc) {
			continue
		}
		for _, ep := range a.endpoints(svc) {
			if n := ep.label + "." + a.serviceFQDN(svc); ep.ip == ip && !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	return names
}

// addresses are the A or AAAA records (by q's type; ANY: both) of ips.
func (a *answerer) addresses(q dns.Question, ips []netip.Addr) []dns.RR {
	var keep []netip.Addr
	for _, ip := range ips {
		if q.Qtype == dns.TypeANY || (q.Qtype == dns.TypeA && ip.Is4()) || (q.Qtype == dns.TypeAAAA && ip.Is6()) {
			keep = append(keep, ip)
		}
	}
	return a.addressRRs(q.Name, keep)
}

func (a *answerer) addressRRs(name string, ips []netip.Addr) []dns.RR {
	var out []dns.RR
	for _, ip := range ips {
		if ip.Is4() {
			out = append(out, &dns.A{Hdr: a.hdr(name, dns.TypeA), A: net.IP(ip.AsSlice())})
		} else {
			out = append(out, &dns.AAAA{Hdr: a.hdr(name, dns.TypeAAAA), AAAA: net.IP(ip.AsSlice())})
		}
	}
	return out
}

func (a *answerer) hdr(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: a.ttl}
}

// soa is the zone's SOA (CoreDNS's shape; the minimum is the TTL).
func (a *answerer) soa() dns.RR {
	return &dns.SOA{Hdr: a.hdr(a.domain, dns.TypeSOA), Ns: "ns.dns." + a.domain, Mbox: "hostmaster." + a.domain,
		Serial: 1, Refresh: 7200, Retry: 1800, Expire: 86400, Minttl: a.ttl}
}

func (a *answerer) serviceFQDN(svc *corev1.Service) string {
	return svc.Name + "." + svc.Namespace + ".svc." + a.domain
}

// endpoint is one address of a headless Service: its label (hostname, or
// the address with dashes) and its ports by name and protocol.
type endpoint struct {
	label string
	ip    netip.Addr
	ports map[string][]uint16
}

// endpoints are a headless Service's ready endpoints (all of them with
// publishNotReadyAddresses), one per address.
func (a *answerer) endpoints(svc *corev1.Service) []endpoint {
	var out []endpoint
	seen := map[netip.Addr]int{}
	for _, es := range a.records.Slices(svc.Namespace, svc.Name) {
		ports := map[string][]uint16{}
		for _, p := range es.Ports {
			if p.Name != nil && p.Port != nil && p.Protocol != nil {
				k := portKey(*p.Name, *p.Protocol)
				ports[k] = append(ports[k], uint16(*p.Port))
			}
		}
		for _, ep := range es.Endpoints {
			if !svc.Spec.PublishNotReadyAddresses && ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			for _, s := range ep.Addresses {
				ip, err := netip.ParseAddr(s)
				if err != nil {
					continue
				}
				if i, dup := seen[ip]; dup {
					mergePorts(out[i].ports, ports)
					continue
				}
				label := dashIP(ip)
				if ep.Hostname != nil && *ep.Hostname != "" {
					label = strings.ToLower(*ep.Hostname)
				}
				seen[ip] = len(out)
				out = append(out, endpoint{label: label, ip: ip, ports: clonePorts(ports)})
			}
		}
	}
	return out
}

func portKey(name string, proto corev1.Protocol) string {
	return name + "/" + strings.ToLower(string(proto))
}

func clonePorts(p map[string][]uint16) map[string][]uint16 {
	out := make(map[string][]uint16, len(p))
	mergePorts(out, p)
	return out
}

func mergePorts(dst, src map[string][]uint16) {
	for k, v := range src {
		for _, n := range v {
			if !containsPort(dst[k], n) {
				dst[k] = append(dst[k], n)
			}
		}
	}
}

func containsPort(l []uint16, n uint16) bool {
	for _, x := range l {
		if x == n {
			return true
		}
	}
	return false
}

func hasPort(svc *corev1.Service, name, proto string) bool {
	for _, p := range svc.Spec.Ports {
		if p.Name == name && strings.ToLower(string(p.Protocol)) == proto {
			return true
		}
	}
	return false
}

func isHeadless(svc *corev1.Service) bool {
	return svc.Spec.ClusterIP == corev1.ClusterIPNone
}

func clusterIPs(svc *corev1.Service) []netip.Addr {
	var out []netip.Addr
	for _, s := range svc.Spec.ClusterIPs {
		if ip, err := netip.ParseAddr(s); err == nil {
			out = append(out, ip)
		}
	}
	if len(out) == 0 {
		if ip, err := netip.ParseAddr(svc.Spec.ClusterIP); err == nil {
			out = append(out, ip)
		}
	}
	return out
}
