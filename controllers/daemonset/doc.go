// Package daemonset is kube's DaemonSet controller: one pod of each
// DaemonSet on every node that should run it.
//
// A node should run a DaemonSet's pod when it matches the template's
// nodeSelector and required node affinity and its NoSchedule and
// NoExecute taints are tolerated, counting the tolerations the controller
// adds to every daemon pod as kube does (not-ready and unreachable
// NoExecute; disk-, memory- and pid-pressure and unschedulable NoSchedule;
// network-unavailable NoSchedule for hostNetwork pods). A pod already
// there stays through an untolerated NoSchedule taint, not a NoExecute
// one (nodePlacement).
//
// Pods are made from the template with generateName "<ds>-", the
// DaemonSet as controller owner, the labels controller-revision-hash and
// pod-template-generation, and a required node affinity on
// metadata.name=<node> that the scheduler binds by (kube's
// ReplaceDaemonSetPodNodeNameNodeAffinity). The history is kept in
// ControllerRevisions named "<ds>-<hash>" whose data is the patch
// {"spec":{"template":{...,"$patch":"replace"}}} that `kubectl rollout
// undo` applies; a template equal to an old revision's (a rollback)
// renumbers that revision instead of making a new one; old revisions
// beyond revisionHistoryLimit (default 10) that no pod uses are deleted;
// orphaned revisions the selector matches (after --cascade=orphan) are
// adopted, like pods.
//
// Plan (pure) is kube's manage step — create on nodes that should run a
// pod and have none, delete from nodes that should not, replace Failed
// and Succeeded pods, keep the oldest of duplicates — and, when that has
// nothing to do and the strategy is RollingUpdate, kube's rolling update:
// without maxSurge, old pods are deleted while at most maxUnavailable
// nodes lack an available pod; with maxSurge, new pods start beside old
// ones on at most maxSurge nodes, and the old one goes once the new one
// is available (minReadySeconds counted). OnDelete replaces nothing.
// computeStatus gives the status `kubectl rollout status` reads.
//
// The Controller is thin: informers on DaemonSets, ControllerRevisions,
// pods and nodes (labels, taints or cordon changes) feed a queue of
// DaemonSet keys; one worker syncs one at a time. So that a lagging cache
// never doubles a pod, the creates and deletes of a sync must be seen in
// the pod cache before the next manage step (expectations, 5m timeout).
// The DaemonSet's pods are those it controls that match its selector;
// matching orphans are adopted and controlled pods that stop matching are
// released (controllers/internal/claim). A DaemonSet being deleted is left alone: its pods are its
// owner references' to clean up (the garbage collector).
package daemonset
