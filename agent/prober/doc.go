// Package prober runs the liveness, readiness and startup probes of the
// containers of the agent's pods, as kubelet's prober does.
//
// A Manager keeps one worker per pod, container (app containers and
// sidecars) and probe kind. A worker probes every periodSeconds (the first
// time after initialDelaySeconds from the container's start), through an
// exec in the container (the runtime's ExecSync, with timeoutSeconds), an
// HTTP GET, a TCP connect or a grpc.health.v1 Check to the pod's IP, from
// the agent's network namespace (the node's) through an injected dialer.
// A result is published only once the same outcome came successThreshold
// (or failureThreshold) times in a row; every change goes out on Updates,
// so that the agent can wake the pod's worker, and failures are recorded
// as kubelet's "Unhealthy" Warning events on the container.
//
// A new container is not ready (readiness starts at Failure), is live
// (liveness starts at Success) and has not started while it has a startup
// probe (startup starts at Unknown). Liveness and readiness are not probed
// until the container has started; a startup probe is not probed after.
// After a liveness failure, or a startup verdict, the worker holds until
// the container's next instance. UpdatePodStatus turns the results into
// the started and ready flags of a computed pod status.
//
// Workers run on an injected clock (k8s.io/utils/clock), so tests drive
// periods with a fake one; the agent owns the Manager and stops it.
package prober
