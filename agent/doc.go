// Package agent is the kubelet core of nodeagent: it registers the node and
// keeps its status and Lease fresh, watches the pods bound to the node, and
// runs one worker per pod that reads the pod from the informer cache and the
// pod's sandbox and containers from the runtime, computes what to do
// (computePodActions, a pure function), does it through cri/ and cni/, and
// computes the pod's status (computePodStatus, pure) for the status
// manager (agent/status), the one place that writes pod status.
//
// Its parts, as kubelet's: what the agent knows of each pod beyond the API
// and the runtime (waiting reasons, sandboxes seen) is one podSyncStatus
// per pod with its own lock (podsyncstatus.go); images are agent/images';
// the status manager holds each pod's last status and the prober's
// readiness and startup results; the prober (agent/prober's Manager, or
// another through the Prober interface, probes.go; FakeProber in tests)
// sends its readiness and startup results to the status manager, and a
// failed liveness or startup probe makes the pod worker kill the container
// for its restart policy to restart. agent/lifecycle holds what kubelet
// does around a container's start and stop: the pod worker runs postStart
// hooks (hooks.go), stops containers with their preStop hooks and grace
// periods, sidecars after the app containers (kill.go), starts sidecars in
// order behind their startup probes (PlanInit, actions.go), fills
// termination messages (termination.go) and fails a pod past its
// activeDeadlineSeconds (deadline.go). Graceful node shutdown is
// agent/shutdown's manager; the agent is its Pods (shutdown.go): a pod it
// terminates is synced by syncTermination, failed as kubelet fails it and
// killed with the manager's grace, and pods that come meanwhile are
// refused.
//
// Everything the agent needs after a restart is in the runtime (labels on
// sandboxes and containers) or on disk (the pod directory with resolv.conf
// and hosts, the CNI cache), so a restarted agent adopts what is running;
// it runs CNI CHECK once for each sandbox it adopts and reports a failure
// as a Warning event without touching the pod (adopt.go).
//
// Volumes are volumes/' (a pod is confined to them: configMap and secret
// volumes are read-only to containers and written with no symlink
// followed, subPaths are bound by the agent, hostPath may not reach the
// agent's own state); teardown unmounts them before the pod directory goes.
// Work keys are typed (workkey.go): a pod by namespace/name, or the
// leftovers of a pod nobody has by uid. Uids read back from the machine
// are validated before any path is built from them (cleanup.go).
//
// Images are pulled by agent/images (imagePullPolicy, pull secrets, and a
// per-image back-off, 10 s doubling to 5 min); crashing containers back off
// per container in the same way (CrashLoopBackOff, actions.go).
//
// Dead containers and unused images are collected by gc/ (gc_wiring.go),
// which takes a pod the agent does not know for gone only after the first
// housekeeping round; every container's log rotates at
// ContainerLogRotation (the runtime's log writer rotates it). DiskFreer is
// the collectors' seam for the eviction manager.
//
// The node's client certificate is agent/certificate's: TLS bootstrapping
// with a bootstrap token and a CSR, and rotation at 70-90 % of its
// lifetime, handed to the running clients without a restart (the command
// wires it around the agent's client).
//
// The API on 10250 (api.go; streaming*.go and api_logs.go) serves logs,
// exec, attach, port-forward and /run as kubelet does, every request
// through apiauth; the handlers ask only the runtime.
package agent
