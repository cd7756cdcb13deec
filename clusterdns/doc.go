// Package clusterdns is the cluster's DNS server (kube-dns/CoreDNS's
// kubernetes plugin, for the names pods look up): authoritative for the
// cluster domain, fed by Service and EndpointSlice informers, forwarding
// every other name to the node's resolvers.
//
// Names, as the Kubernetes DNS specification gives them (TTL 5 s):
//
//	<svc>.<ns>.svc.<domain>             A/AAAA: the ClusterIPs; headless: the ready
//	                                    endpoints (all with publishNotReadyAddresses);
//	                                    ExternalName: a CNAME to spec.externalName
//	<host>.<svc>.<ns>.svc.<domain>      A/AAAA of a headless Service's endpoint, by its
//	                                    hostname or its address with dashes
//	_<port>._<proto>.<svc>.<ns>.svc.<domain>
//	                                    SRV per named port (ClusterIP: the Service's
//	                                    name; headless: each endpoint's)
//	<svc>.<ns>.svc.<domain> SRV         every named port
//	<a-b-c-d>.<ns>.pod.<domain>         A/AAAA of that address (CoreDNS's "pods insecure")
//	reverse names                       PTR of a ClusterIP to its Service, of a headless
//	                                    endpoint to its name; others are forwarded
//
// A name in the domain that does not exist is NXDOMAIN; one that exists
// without records of the asked type is NOERROR with no answer (NODATA),
// both with the zone's SOA. Only clients from the allowed networks (pods,
// nodes, loopback) are answered; others are REFUSED, so that the node is
// not an open resolver.
//
// Publish keeps the kube-dns Service (the cluster DNS IP, ports 53/UDP and
// 53/TCP) and its EndpointSlice (the server's address) in kube-system.
package clusterdns
