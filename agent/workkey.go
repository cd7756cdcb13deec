package agent

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
)

// workKind says what a work key names.
type workKind uint8

const (
	// podWork is a static or API pod, by namespace and name: the worker
	// reads the pod from the static pods, else from the cache, and tears
	// down what a pod of that name left when neither has it.
	podWork workKind = iota
	// orphanWork is what a pod nobody has left (containers, sandboxes,
	// network, directory, cgroup), by its uid.
	orphanWork
)

// workKey is what the workers' queue holds. Typed, so that no namespace
// or name can pass for another kind of work (a pod in a namespace named
// "orphan" was once taken for the leftovers of a pod with its name as uid).
type workKey struct {
	kind      workKind
	namespace string
	name      string
	uid       types.UID // orphanWork only
}

type workQueue = workqueue.TypedRateLimitingInterface[workKey]

func newWorkQueue() workQueue {
	return workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[workKey]())
}

// nameKey is the key of the pod namespace/name.
func nameKey(namespace, name string) workKey {
	return workKey{kind: podWork, namespace: namespace, name: name}
}

// podWorkKey is the key of the pod.
func podWorkKey(pod *corev1.Pod) workKey { return nameKey(pod.Namespace, pod.Name) }

// orphanKey is the key of the leftovers of the pod with this uid.
func orphanKey(uid string) workKey { return workKey{kind: orphanWork, uid: types.UID(uid)} }

// cacheKey is the pod's key in the informer's cache and the static pods'
// map: namespace/name.
func (k workKey) cacheKey() string { return k.namespace + "/" + k.name }

// String names the work in logs.
func (k workKey) String() string {
	if k.kind == orphanWork {
		return "leftovers of pod uid " + string(k.uid)
	}
	return k.cacheKey()
}
