// Package endpoints keeps the v1 Endpoints of Services with a selector, as
// kube-controller-manager's endpoints controller does, for the clients
// that still read Endpoints rather than EndpointSlices.
//
// For every Service with a selector (not ExternalName) the controller
// keeps an Endpoints object of the same name. Subsets (pure) turns the
// service and its pods into subsets: a pod that matches the selector, is
// not Succeeded or Failed, has an IPv4 pod IP and is not terminating
// (unless the service publishes not-ready addresses) gives an address
// with its IP, node name and a Pod targetRef, and its hostname when
// spec.hostname is set and spec.subdomain names the service. The address
// is ready when the pod is Ready (or the service publishes not-ready
// addresses) and notReady otherwise. A numeric targetPort is used as is, a
// named one is looked up in the pod's container ports (name and
// protocol); a pod that resolves none of the service's ports has no
// address, and pods that resolve different port sets land in different
// subsets. A headless service without ports gets its pods' addresses in a
// subset with no ports. At most 1000 addresses are kept (ready ones
// first, each subset keeping its share), and then the Endpoints carry
// the annotation endpoints.kubernetes.io/over-capacity: truncated.
//
// Build gives the object its labels (the service's, plus
// endpoints.kubernetes.io/managed-by: endpoint-controller,
// endpointslice.kubernetes.io/skip-mirror: "true" so that the mirroring
// controller leaves it alone, and service.kubernetes.io/headless for a
// headless service) and the annotation
// endpoints.kubernetes.io/last-change-trigger-time: the earliest pod or
// service change not yet written. Endpoints whose subsets, labels and
// capacity annotation are already right are not written.
//
// The Controller is thin: informers for Services, Pods and Endpoints feed
// a queue of service keys; one worker syncs one service at a time. The
// Endpoints of a deleted Service, of one that lost its selector or became
// ExternalName, are deleted, but only those carrying this controller's
// managed-by label: hand-written Endpoints (of a Service without a
// selector, say an external database) are never touched.
package endpoints
