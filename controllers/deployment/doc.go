// Package deployment rolls Deployments out through ReplicaSets, as
// kube-controller-manager's deployment controller does.
//
// A Deployment owns ReplicaSets (claimed with kube's ControllerRef rules,
// controllers/internal/claim) that differ by pod template. The new one
// carries the Deployment's template: named <deployment>-<hash>, with the
// label pod-template-hash=<hash> added to its labels, selector and
// template, where the hash is kube's (ComputeHash: FNV-32a over the
// spew-printed template and status.collisionCount). A name taken by a
// ReplicaSet of another template raises collisionCount. The new one gets
// revision max(old revisions)+1 in deployment.kubernetes.io/revision (a
// ReplicaSet brought back by a rollback keeps its earlier numbers in
// revision-history), the Deployment's other annotations (so
// kubernetes.io/change-cause shows in kubectl rollout history), and the
// Deployment gets the same revision annotation. kubectl rollout undo,
// which copies an old ReplicaSet's template into the Deployment, thus
// makes that ReplicaSet the new one again; kubectl rollout restart, a
// template annotation, makes a new one.
//
// Every ReplicaSet the controller sizes carries desired-replicas and
// max-replicas (the Deployment's replicas and replicas+maxSurge then). A
// Deployment whose active ReplicaSets were sized for other replicas, or
// that is paused, is only scaled: the one active ReplicaSet takes the new
// size; with several (mid-rollout) the change is shared out in proportion
// to their size (Proportional, kube's proportional scaling). A paused
// Deployment does not roll.
//
// RollingUpdate scales the new ReplicaSet up while the total stays within
// replicas+maxSurge (percentages rounded up), then old ones down while the
// available pods stay at least replicas-maxUnavailable (rounded down; both
// 0 makes maxUnavailable 1), first by their unavailable pods, oldest
// first. Recreate scales every old ReplicaSet to 0, waits until no pod of
// theirs runs, then creates and scales the new one. Once a rollout is
// complete, old ReplicaSets beyond revisionHistoryLimit that run nothing
// are deleted, lowest revision first.
//
// The status adds up the ReplicaSets' counts (replicas, updatedReplicas
// of the new one, ready, available, unavailable) with observedGeneration,
// and keeps kube's conditions: Available (MinimumReplicasAvailable or
// MinimumReplicasUnavailable) and, with a progressDeadlineSeconds,
// Progressing (NewReplicaSetCreated, FoundNewReplicaSet, ReplicaSetUpdated
// while counts move, NewReplicaSetAvailable once complete,
// ProgressDeadlineExceeded when they stop moving for the deadline,
// DeploymentPaused/DeploymentResumed, ReplicaSetCreateError) and the
// ReplicaSets' ReplicaFailure, so kubectl rollout status ends when kube's
// would. Events are kube's ScalingReplicaSet messages.
package deployment
