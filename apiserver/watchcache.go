package apiserver

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	selectionop "k8s.io/apimachinery/pkg/selection"

	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// startWatchCaches gives every built-in store a watch cache
// (kube-apiserver's --watch-cache), unless the configuration turns it off.
// Close stops them.
func (s *Server) startWatchCaches() error {
	ctx := s.customCaches.ctx
	if ctx == nil {
		return nil
	}
	for r, st := range s.stores {
		if err := st.StartCache(ctx, s.cacheOptions(r)); err != nil {
			return fmt.Errorf("watch cache of %s: %w", r.plural, err)
		}
	}
	return nil
}

// cacheOptions: the cached objects carry their apiVersion and kind from the
// start (ensureKind finds nothing left to set on a shared object), and
// pods are indexed by node, for each node's own list and watch.
func (s *Server) cacheOptions(r *resource) storage.CacheOptions {
	opts := storage.CacheOptions{Prepare: func(obj runtime.Object) { ensureKind(obj, r) }, Log: s.log}
	if r.gvk == coreV1.WithKind("Pod") {
		opts.Indexes = map[string]storage.IndexFunc{
			"spec.nodeName": func(obj runtime.Object) string { return obj.(*corev1.Pod).Spec.NodeName },
		}
	}
	return opts
}

// hints are the selection's equality requirements, which the watch cache
// may answer from an index.
func (sel selection) hints() storage.Hints {
	var h storage.Hints
	for _, req := range sel.fields.Requirements() {
		if req.Operator == selectionop.Equals || req.Operator == selectionop.DoubleEquals {
			h.Fields = setHint(h.Fields, req.Field, req.Value)
		}
	}
	reqs, _ := sel.labels.Requirements()
	for _, req := range reqs {
		op, vals := req.Operator(), req.Values()
		if (op == selectionop.Equals || op == selectionop.DoubleEquals || op == selectionop.In) && vals.Len() == 1 {
			h.Labels = setHint(h.Labels, req.Key(), vals.UnsortedList()[0])
		}
	}
	return h
}

func setHint(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}
