package apiserver

import (
	"context"
	"errors"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// SharedPods lists and watches every pod in this process, from the watch
// cache, with no request, encoding or copy: an informer built on it holds
// the cache's own objects. The server's controllers use it for their pod
// informer, so that the server keeps each pod once, not once in its cache
// and again in its controllers' informer (a decoded pod is ~4 KB).
//
// What it returns is shared with every watch the server serves and must
// never be modified: informers' rule (deep-copy before writing) becomes a
// hard one. No transform may run on the informer, for the same reason.
// It is trusted in-process code: no authentication or authorization runs,
// as for the server's other internal readers (RBAC index, graph).
func (s *Server) SharedPods() cache.ListerWatcher {
	res, _ := s.reg.lookup("", "v1", "pods")
	sp := &sharedPods{s: s, res: res}
	return &cache.ListWatch{ListWithContextFunc: sp.list, WatchFuncWithContext: sp.watch}
}

type sharedPods struct {
	s   *Server
	res *resource
}

var podsResource = schema.GroupResource{Resource: "pods"}

var errSharedPodsSelector = errors.New("SharedPods serves every pod: no label or field selector")

// list is a LIST of every pod, its resourceVersion and
// resourceVersionMatch read as an API list reads them (readRevisions).
func (sp *sharedPods) list(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
	if o.LabelSelector != "" || o.FieldSelector != "" {
		return nil, errSharedPodsSelector
	}
	opts := storage.ListOptions{Shared: true}
	if err := readRevisions(&opts, o.ResourceVersion, o.ResourceVersionMatch); err != nil {
		return nil, err
	}
	page, err := sp.s.store(sp.res).List(ctx, "", opts)
	if err != nil {
		return nil, statusError(err, podsResource, "")
	}
	return &sharedList{ListMeta: metav1.ListMeta{ResourceVersion: strconv.FormatInt(page.Revision, 10)}, Items: page.Items}, nil
}

// watch is a WATCH of every pod, from o.ResourceVersion (with
// sendInitialEvents, first the current pods, as client-go's watch-list
// asks).
func (sp *sharedPods) watch(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
	if o.LabelSelector != "" || o.FieldSelector != "" {
		return nil, errSharedPodsSelector
	}
	rv, err := storage.ParseRV(o.ResourceVersion)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	opts := storage.WatchOptions{
		Revision:          rv,
		SendInitialEvents: o.SendInitialEvents != nil && *o.SendInitialEvents,
		Bookmarks:         o.AllowWatchBookmarks,
		Shared:            true,
	}
	w, err := sp.s.store(sp.res).Watch(ctx, "", opts, sp.s.watchLimits)
	if err != nil {
		return nil, statusError(err, podsResource, "")
	}
	return w, nil
}

// sharedList is a list whose items are the cache's objects themselves
// (client-go takes the items of a []runtime.Object list as they are;
// a PodList's []Pod would copy each one).
type sharedList struct {
	metav1.TypeMeta
	metav1.ListMeta
	Items []runtime.Object
}

func (l *sharedList) DeepCopyObject() runtime.Object {
	c := *l
	l.ListMeta.DeepCopyInto(&c.ListMeta)
	c.Items = make([]runtime.Object, len(l.Items))
	for i, obj := range l.Items {
		c.Items[i] = obj.DeepCopyObject()
	}
	return &c
}
