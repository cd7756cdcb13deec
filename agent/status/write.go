package status

import (
	"context"
	"strconv"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// write sends e's status to its target when the API holds another; the
// caller holds e.mu.
func (m *Manager) write(ctx context.Context, e *podStatus) error {
	target, ok := m.cfg.Target(e.pod)
	if !ok {
		return nil
	}
	api, rv := target.Status, target.ResourceVersion
	if e.api.uid == target.UID && newer(e.api.rv, rv) {
		// The cache has not seen this manager's last write yet.
		api, rv = e.api.status, e.api.rv
	}
	if equality.Semantic.DeepEqual(api, e.status) {
		return nil
	}
	next := *target // the status subresource takes nothing but the status
	next.ResourceVersion, next.Status = rv, e.status
	got, err := m.cfg.Pods.Pods(target.Namespace).UpdateStatus(ctx, &next, metav1.UpdateOptions{})
	switch {
	case err == nil:
		e.api = apiView{uid: got.UID, rv: got.ResourceVersion, status: got.Status}
		m.noteWrite(e.pod.UID, got.UID, got.ResourceVersion)
		return nil
	case apierrors.IsNotFound(err) && target.UID == e.pod.UID:
		return nil // the pod is gone: its deletion brings the worker back
	case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
		m.cfg.Resync(e.pod) // a mirror pod went, or another writer came first
		return nil
	}
	return err
}

// newer reports whether resourceVersion a is later than b. Resource
// versions are opaque to clients in general; nodeagent's API server's are
// etcd revisions, numbers that grow, and a pair that does not parse is
// taken as not newer (the cache's view wins).
func newer(a, b string) bool {
	x, err1 := strconv.ParseUint(a, 10, 64)
	y, err2 := strconv.ParseUint(b, 10, 64)
	return err1 == nil && err2 == nil && x > y
}
