package apiserver

import (
	"slices"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"

	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// customRegistry is the set of custom resources served now: replaced as a
// whole whenever the definitions change (crd_controller.go), read by every
// request. Each resource carries its store (customInfo), so a request that
// found a resource keeps a working store after a replace.
type customRegistry struct {
	mu  sync.RWMutex
	reg *registry
}

func newCustomRegistry() *customRegistry { return &customRegistry{reg: newRegistry(nil)} }

// replace serves exactly rs, each with the store newStore gives it.
func (c *customRegistry) replace(rs []*resource, newStore func(r *resource) *storage.Store) {
	for _, r := range rs {
		r.custom.store = newStore(r)
	}
	reg := newRegistry(rs)
	c.mu.Lock()
	c.reg = reg
	c.mu.Unlock()
}

// newCustomStore is the store of a custom resource's version: it reads its
// objects with its own apiVersion (conversion None).
func newCustomStore(kv *clientv3.Client, r *resource) *storage.Store {
	st := storage.NewStore(kv, customStorePrefix(r), r.newObj)
	gv := r.groupVersion().String()
	st.OnDecode(func(obj runtime.Object) {
		if u, ok := obj.(interface{ SetAPIVersion(string) }); ok {
			u.SetAPIVersion(gv)
		}
	})
	return st
}

// current is the registry now; a Server made without New serves none.
func (c *customRegistry) current() *registry {
	if c == nil {
		return newRegistry(nil)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.reg
}

// customStorePrefix is where a definition's objects live, as in kube.
func customStorePrefix(r *resource) string {
	return "/registry/" + r.gvk.Group + "/" + r.plural
}

// lookup finds a built-in resource, or else a custom one.
func (s *Server) lookup(group, version, plural string) (*resource, bool) {
	if r, ok := s.reg.lookup(group, version, plural); ok {
		return r, true
	}
	reg := s.custom.current()
	return reg.lookup(group, version, plural)
}

// groupVersions are the built-in group versions, then the custom ones, a
// group's versions in kube's priority order.
func (s *Server) groupVersions() []schema.GroupVersion {
	out := s.reg.groupVersions()
	byGroup := map[string][]string{}
	var groups []string
	for _, gv := range s.custom.current().groupVersions() {
		if slices.Contains(out, gv) {
			continue
		}
		if _, ok := byGroup[gv.Group]; !ok {
			groups = append(groups, gv.Group)
		}
		byGroup[gv.Group] = append(byGroup[gv.Group], gv.Version)
	}
	for _, g := range groups {
		vs := byGroup[g]
		slices.SortFunc(vs, func(a, b string) int { return -version.CompareKubeAwareVersionStrings(a, b) })
		for _, v := range vs {
			out = append(out, schema.GroupVersion{Group: g, Version: v})
		}
	}
	return out
}

func (s *Server) inGroupVersion(gv schema.GroupVersion) []*resource {
	reg := s.custom.current()
	return append(s.reg.inGroupVersion(gv), reg.inGroupVersion(gv)...)
}
