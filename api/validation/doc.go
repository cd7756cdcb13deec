// Package validation checks API objects the way kube-apiserver does before it
// stores them, and reports problems as a field.ErrorList with kube's field
// paths, error types and, as far as practical, its messages, so that
//
//	apierrors.NewInvalid(schema.GroupKind{Kind: "Pod"}, name, errs)
//
// gives kubectl the same 422 text a real cluster would, for example
//
//	The Pod "web" is invalid: spec.containers[0].image: Required value
//
// Each kind has a create function (Pod, Service, ...) and, where kube has
// rules of its own for updates, an update function (PodUpdate,
// ServiceUpdate, ...). They expect objects that have been through the
// defaults package, as kube validates only after defaulting; an object that
// skipped it fails on the fields defaulting would have filled (Required
// restartPolicy, protocol, ...). The caller also does what kube's registry
// does before validating: generate names from generateName, carry the stored
// resourceVersion into unconditional updates, keep allocated cluster IPs.
//
// The package is pure: no I/O, no clock, no package state. Where kube's
// rules depend on a feature gate, the package takes the gate's 1.37 default
// as we understand it: relaxed env var and service names, strict IP syntax,
// sidecar init containers, no alpha fields checked.
package validation
