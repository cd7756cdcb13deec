// Package statefulset is kube's StatefulSet controller: pods with a
// stable identity and stable storage, made, updated and removed in order.
//
// Pods are named "<set>-<ordinal>" for the ordinals spec.ordinals.start
// .. start+replicas-1, labelled statefulset.kubernetes.io/pod-name,
// apps.kubernetes.io/pod-index and controller-revision-hash (the name of
// the revision they were made from), with hostname the pod name and
// subdomain spec.serviceName (so "<pod>.<service>" resolves through a
// headless Service), and the set as controller owner. Each
// volumeClaimTemplate gives the pod a volume using the claim
// "<template>-<set>-<ordinal>", created before the pod (and again for a
// pending pod whose claim went) and kept when the pod goes.
// persistentVolumeClaimRetentionPolicy is carried out with owner
// references, as kube does, for the garbage collector: whenDeleted Delete
// gives the claims the set as owner; whenScaled Delete gives the claims
// of a pod beyond the range that pod as owner before it is deleted;
// Retain (the default) gives them none.
//
// Plan (pure) is kube's updateStatefulSet. OrderedReady: create one pod at
// a time in ordinal order, each Running, Ready and available
// (minReadySeconds) before the next; delete pods beyond the range from the
// highest ordinal down, one at a time. Parallel: all at once. A Failed or
// Succeeded pod is deleted and made again. RollingUpdate then deletes the
// highest pod at or above the partition that is not at the update
// revision (it is remade at it), one at a time, waiting for each to be
// available; pods below the partition are made at the current revision.
// OnDelete replaces nothing. spec.updateStrategy.rollingUpdate
// .maxUnavailable (alpha in kube, gate off) is not read: one at a time.
//
// Revisions are ControllerRevisions "<set>-<hash>" holding the template
// patch `kubectl rollout undo` applies; a template equal to an older
// revision's renumbers that one (a rollback). status.currentRevision is
// the revision pods came from before the update; once every pod is
// updated and ready it becomes the update revision, which is what
// `kubectl rollout status sts/x` waits for. Revisions beyond
// revisionHistoryLimit that no pod uses are deleted. Orphaned revisions
// the selector matches (after --cascade=orphan) are adopted, like pods.
//
// The Controller is thin: informers on StatefulSets, pods (by controller
// owner), ControllerRevisions and claims; one worker syncs a set at a
// time. Pod names are fixed, so a lagging cache at worst meets
// AlreadyExists. The set's pods are those it controls that match its
// selector and are named after it; such orphans are adopted and
// controlled pods that stop matching are released. A set being deleted only gets its status: its pods go with
// their owner references (the garbage collector).
package statefulset
