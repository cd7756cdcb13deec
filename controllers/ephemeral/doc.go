// Package ephemeral is kube's ephemeral volume controller: for each
// generic ephemeral volume of a pod it creates the claim <pod>-<volume>
// from the volume's claim template (its labels, annotations and spec),
// controlled by the pod. kube leaves the claim's removal to its garbage
// collector, which nodeagent does not run; here the controller itself
// deletes a claim once the pod controlling it (same name and UID) is gone
// from the cache and from the server. Claims it did not make (no pod
// controller reference) are never touched; a claim of the right name that
// the pod does not control is left alone, and the scheduler refuses the
// pod, as kube's does.
package ephemeral
