// Package endpointslicemirroring mirrors hand-written v1 Endpoints into
// EndpointSlices, as kube-controller-manager's endpointslicemirroring
// controller does, so that the service proxy (which reads only
// EndpointSlices) routes a Service without a selector to the addresses a
// user wrote, say an external database's.
//
// Endpoints are mirrored when a Service of the same name exists and has
// no selector, and the Endpoints are not labelled
// endpointslice.kubernetes.io/skip-mirror: "true" (the endpoints
// controller labels its own so: their slices come from the endpointslice
// controller) nor carry a leader-election annotation.
//
// Desired (pure) turns the Endpoints into slices: one per address type
// and port set, named from generateName "<name>-", with the Endpoints'
// labels and annotations (not last-change-trigger-time nor
// last-applied-configuration), kubernetes.io/service-name=<name> and
// endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io,
// owned by the Service. Each address becomes an endpoint with its ready
// condition (addresses ready, notReadyAddresses not), targetRef, nodeName
// and hostname; an address that is not an IP is skipped, one written
// twice is kept once (ready wins), and at most 1000 are mirrored per
// subset, as kube's --mirroring-max-endpoints-per-subset default.
//
// Plan (pure) matches the desired slices with the existing mirrored ones
// by address type and port set: unchanged slices are not written, changed
// ones are updated, missing ones created, the rest deleted.
//
// The Controller is thin: informers for Endpoints, Services and
// EndpointSlices feed a queue of keys ("namespace/name"); one worker
// syncs a key at a time. When a key should not be mirrored (the Service
// is gone or has a selector, the Endpoints are gone or skipped) its
// mirrored slices are deleted; slices this controller did not make are
// never touched.
package endpointslicemirroring
