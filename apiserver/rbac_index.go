package apiserver

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/nodeagent/nodeagent/apiserver/auth"
	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// rbacRetry is how long a feed waits before watching again after an error.
const rbacRetry = time.Second

// startRBAC feeds the RBAC authorizer's in-memory index from a watch of
// each of the four RBAC resources, until Close: the initial state replaces
// the resource's part of the index, then every change is applied; a watch
// that ends resumes from its last revision, one that fails starts over
// from a full state.
func (s *Server) startRBAC() {
	ctx, cancel := context.WithCancel(context.Background())
	s.stopRBAC = cancel
	s.rbac = auth.NewRBACIndex()
	kick := make(chan struct{}, 1)
	for _, plural := range []string{auth.ResClusterRoles, auth.ResRoles, auth.ResClusterRoleBindings, auth.ResRoleBindings} {
		res, _ := s.reg.lookup(rbacV1.Group, rbacV1.Version, plural)
		var changed chan<- struct{}
		if plural == auth.ResClusterRoles {
			changed = kick
		}
		go s.feedRBAC(ctx, res, changed)
	}
	go s.aggregateClusterRoles(ctx, kick)
	s.authz.SetRBAC(s.rbac)
}

// feedRBAC keeps res's part of the index; after each change it signals
// changed (when not nil) without waiting.
func (s *Server) feedRBAC(ctx context.Context, res *resource, changed chan<- struct{}) {
	var rev int64
	for ctx.Err() == nil {
		next, err := s.watchRBAC(ctx, res, rev, changed)
		if err != nil {
			s.log.Warn("rbac index: watch failed, starting over", "resource", res.plural, "err", err)
			next = 0
			select {
			case <-ctx.Done():
			case <-time.After(rbacRetry):
			}
		}
		rev = next
	}
}

// watchRBAC runs one watch from rev (0: a full state first) and returns
// the last revision it applied.
func (s *Server) watchRBAC(ctx context.Context, res *resource, rev int64, changed chan<- struct{}) (int64, error) {
	opts := storage.WatchOptions{Revision: rev, Bookmarks: true, SendInitialEvents: rev == 0}
	w, err := s.store(res).Watch(ctx, "", opts, storage.WatchLimits{Buffer: 10000})
	if err != nil {
		return rev, err
	}
	defer w.Stop()
	var initial []runtime.Object
	collecting := rev == 0
	for ev := range w.ResultChan() {
		switch ev.Type {
		case watch.Error:
			return 0, apierrors.FromObject(ev.Object)
		case watch.Bookmark:
			if collecting && initialEnd(ev.Object) {
				s.rbac.Replace(res.plural, initial)
				initial, collecting = nil, false
			}
		case watch.Added, watch.Modified:
			if collecting {
				initial = append(initial, ev.Object)
			} else {
				s.rbac.Set(ev.Object)
			}
		case watch.Deleted:
			s.rbac.Delete(ev.Object)
		}
		if r, err := storage.RV(ev.Object); err == nil && r > rev {
			rev = r
		}
		if !collecting && changed != nil && ev.Type != watch.Bookmark {
			select {
			case changed <- struct{}{}:
			default:
			}
		}
	}
	if collecting {
		// ended before the full state was read: start over
		return 0, nil
	}
	return rev, nil
}

func initialEnd(obj runtime.Object) bool {
	m, err := meta.Accessor(obj)
	return err == nil && m.GetAnnotations()[storage.InitialEventsEndAnnotation] == "true"
}
