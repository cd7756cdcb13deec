package prober

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// Update says that a container's result of one kind changed.
type Update struct {
	PodUID types.UID
	// ContainerID is the container's id as the pod status shows it
	// (containerd://<id>).
	ContainerID string
	Kind        Kind
	Result      Result
}

type resultKey struct {
	kind Kind
	id   string
}

// Results holds the current result of every probed container, by kind and
// container id, and publishes each change on a channel so that the agent
// can wake the pod's worker. A container id may be given as the runtime
// knows it (<id>) or as the pod status shows it (containerd://<id>): both
// name the same container. It is safe for concurrent use.
type Results struct {
	mu      sync.RWMutex
	results map[resultKey]Result
	updates chan Update
}

// NewResults returns an empty Results whose Updates channel holds buffer
// changes before Set blocks.
func NewResults(buffer int) *Results {
	return &Results{results: map[resultKey]Result{}, updates: make(chan Update, buffer)}
}

// Get returns the container's result of kind, if it has one.
func (r *Results) Get(kind Kind, id string) (Result, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	res, ok := r.results[resultKey{kind, runtimeID(id)}]
	return res, ok
}

// Set records a result; a change is published on Updates. The send blocks
// while the channel is full, until ctx ends.
func (r *Results) Set(ctx context.Context, kind Kind, id string, uid types.UID, res Result) {
	if !r.set(resultKey{kind, runtimeID(id)}, res) {
		return
	}
	select {
	case r.updates <- Update{PodUID: uid, ContainerID: id, Kind: kind, Result: res}:
	case <-ctx.Done():
	}
}

// set stores res and reports whether it changed anything.
func (r *Results) set(key resultKey, res Result) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev, ok := r.results[key]; ok && prev == res {
		return false
	}
	r.results[key] = res
	return true
}

// Remove forgets the container's result of kind (no update is sent).
func (r *Results) Remove(kind Kind, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.results, resultKey{kind, runtimeID(id)})
}

// Updates delivers every change of a result, in order.
func (r *Results) Updates() <-chan Update { return r.updates }
