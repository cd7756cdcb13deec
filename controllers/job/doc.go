// Package job is kube-controller-manager's job controller and its
// TTL-after-finished controller, for batch/v1 Jobs.
//
// Pods: from the job's template, named from generateName "<job>-" (for an
// Indexed job "<job>-<index>-"), with the template's labels plus the job's
// (batch.kubernetes.io/job-name, batch.kubernetes.io/controller-uid and the
// legacy job-name, controller-uid) when the template lacks them, the job as
// controller owner with blockOwnerDeletion, and the finalizer
// batch.kubernetes.io/job-tracking. An Indexed job's pod carries its index
// in the annotation and label batch.kubernetes.io/job-completion-index, in
// env JOB_COMPLETION_INDEX (the downward API on that annotation, in every
// container and init container) and in its hostname <job>-<index>.
//
// Counting is kube's finalizer-based tracking, so counts survive the pods'
// deletion and a restart of the controller: a pod that finished (Succeeded;
// Failed; or, when the job has no podFailurePolicy, deleted before it
// succeeded) and still has the finalizer is first written into
// status.uncountedTerminatedPods (an Indexed job's succeeded index into
// status.completedIndexes), then loses its finalizer, then moves into
// status.succeeded / status.failed. Pods deleted while the job is
// suspended are not failures (they only lose the finalizer). A pod with
// the finalizer whose job is gone, or that has no controller any more
// (kubectl delete job --cascade=orphan), loses it too.
//
// Each sync (decide, pure, on an injected clock) then:
//   - fails the job: more failures than backoffLimit, or with restartPolicy
//     OnFailure as many container restarts (BackoffLimitExceeded),
//     activeDeadlineSeconds since startTime (DeadlineExceeded), or a
//     podFailurePolicy FailJob rule (PodFailurePolicy): condition
//     FailureTarget and a Warning event at once, its running pods deleted,
//     and Failed once none is left;
//   - completes it: completions succeeded (every index, for Indexed; one
//     pod and none running, without completions): SuccessCriteriaMet, the
//     rest deleted, then Complete with completionTime and event Completed;
//   - suspends it (spec.suspend): its pods deleted, condition Suspended
//     (JobSuspended), startTime cleared; resumed: Suspended False
//     (JobResumed), startTime now;
//   - else keeps min(parallelism, completions left) pods running
//     (Indexed: one per index not completed, at most parallelism), deleting
//     extras, and after failures creates pods only once the backoff passed:
//     10s doubling per failure since the last success, at most 6 minutes.
//     A terminating pod is replaced at once (podReplacementPolicy
//     TerminatingOrFailed) or keeps its place until Failed (Failed, the
//     default with a podFailurePolicy).
//
// podFailurePolicy rules are matched in order: onExitCodes on a terminated
// container's non-zero exit code (In / NotIn, optionally one container),
// onPodConditions (e.g. DisruptionTarget); Ignore does not count the
// failure, Count counts it, FailJob fails the job. FailIndex (which needs
// backoffLimitPerIndex, not implemented) counts like Count.
//
// Status active, ready, terminating, succeeded, failed, startTime,
// completionTime and the conditions are kept; events are kube's
// (SuccessfulCreate "Created pod: x", SuccessfulDelete, FailedCreate,
// Completed, Suspended, Resumed, and the failure reason as a Warning).
// A finished job with ttlSecondsAfterFinished is deleted (propagation
// Background) that long after its Complete or Failed condition.
//
// As kube's, the controller remembers in memory what the cache does not
// show yet (pods it created, deleted or removed the finalizer of; the
// status it last wrote) and the backoff record; Failed and Complete wait
// until its own creations and deletions are in the cache. Not done:
// adoption of orphan pods that match the selector, backoffLimitPerIndex,
// successPolicy, managedBy.
package job
