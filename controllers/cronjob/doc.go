// Package cronjob is kube-controller-manager's cronjob controller (the v2
// one) for batch/v1 CronJobs, on an injected clock.
//
// The schedule is parsed by github.com/robfig/cron/v3 (five standard
// fields or a descriptor such as @hourly; a TZ= prefix is refused, as kube
// refuses it) in spec.timeZone (the controller's local zone when unset;
// the Go time zone database is built in). Each sync:
//   - reconciles status.active with the cronjob's jobs: a finished job
//     (Complete or Failed) leaves it (event SawCompletedJob; a Complete one
//     sets lastSuccessfulTime to its completionTime), an active job the
//     server no longer has leaves it (event MissingJob);
//   - deletes (propagation Background) the oldest finished jobs past
//     successfulJobsHistoryLimit and failedJobsHistoryLimit (no limit when
//     unset; the server defaults them to 3 and 1);
//   - unless suspended, finds the most recent start time after
//     lastScheduleTime (or the creation time), not before now minus
//     startingDeadlineSeconds, warning TooManyMissedTimes past 100 missed,
//     and runs it unless a run of it is active or concurrencyPolicy Forbid
//     has an active run (event JobAlreadyActive; it runs once that one
//     finishes, if still within the deadline); Replace deletes the active
//     runs first. The job is named <cronjob>-<scheduled time in minutes
//     since the epoch>, carries the template's labels, annotations and
//     spec and the annotation batch.kubernetes.io/cronjob-scheduled-timestamp
//     (RFC 3339 in the cronjob's zone), and is controlled by the cronjob;
//     then status.active and lastScheduleTime record it (event
//     SuccessfulCreate "Created job x");
//   - requeues itself for the next start time (plus 100ms, as kube).
//
// A job made by hand from the cronjob (kubectl create job --from=cronjob/x:
// annotation cronjob.kubernetes.io/instantiate=manual, controlled by the
// cronjob) is not a scheduled run: never in status.active, so it neither
// blocks Forbid nor is replaced nor sets lastSuccessfulTime; like kube, the
// history limits count it once finished.
package cronjob
