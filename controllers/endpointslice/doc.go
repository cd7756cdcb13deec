// Package endpointslice keeps the EndpointSlices of Services with a
// selector, as kube-controller-manager's endpointslice controller does.
//
// For every Service with a selector (not ExternalName) the controller keeps
// discovery.k8s.io/v1 slices of addressType IPv4, named from generateName
// "<service>-", labelled kubernetes.io/service-name=<service> and
// endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io
// (plus the service's own labels, and service.kubernetes.io/headless for
// headless services), with the Service as their controller owner.
//
// Desired (pure) turns the service and its pods into groups of endpoints
// that share one resolved port set: an endpoint per pod that matches the
// selector, is not Succeeded or Failed and has an IPv4 pod IP, with
// conditions ready (Ready and not terminating, or publishNotReadyAddresses),
// serving (Ready, also while terminating) and terminating (deletionTimestamp
// set), its node name and a Pod targetRef. A numeric targetPort is used as
// is; a named one is looked up in the pod's container ports, so pods that
// resolve it differently land in different slices, and a pod without that
// port has only that port left out (as in kube; a pod that resolves no
// port at all still has its endpoint, in a slice with no ports).
//
// Plan (pure) compares the groups with the existing managed slices and
// returns creates, updates and deletes: endpoints stay in the slice that
// holds them, new endpoints fill slices with room (at most 100 each), then
// slices of port sets no longer wanted are reused, then slices are created;
// slices left empty are deleted; a service with no endpoints keeps one
// empty placeholder slice. Unchanged slices are not written.
//
// The Controller is thin: informers for Services, Pods and EndpointSlices
// feed a queue of service keys (a pod maps to the services of its namespace
// whose selector matches it, before and after a change); one worker syncs a
// service at a time, immediately, with no batching delay. A deleted
// service's slices, and the slices this controller made for a service that
// lost its selector or became ExternalName, are deleted here (no garbage
// collector runs in nodeagent). Slices of services without a selector are
// the users' and are never touched. So that a lagging cache never makes it
// create a slice twice, the controller remembers its own writes and reads
// the slices from the API server until the cache shows them.
package endpointslice
