package storage

import (
	"k8s.io/apimachinery/pkg/api/meta"
)

// entries are cached objects by key.
type entries map[string]*cached

// cacheIndex finds cached objects by a field's value (the store's
// IndexFuncs) or by a label's value.
type cacheIndex struct {
	fns    map[string]IndexFunc
	fields map[string]map[string]entries // field -> value -> objects
	labels map[string]map[string]entries // label -> value -> objects
}

func newCacheIndex(fns map[string]IndexFunc) *cacheIndex {
	x := &cacheIndex{fns: fns, fields: map[string]map[string]entries{}, labels: map[string]map[string]entries{}}
	for name := range fns {
		x.fields[name] = map[string]entries{}
	}
	return x
}

func (x *cacheIndex) add(e *cached) {
	for name, fn := range x.fns {
		put(x.fields[name], fn(e.obj), e)
	}
	for k, v := range labelsOf(e) {
		if x.labels[k] == nil {
			x.labels[k] = map[string]entries{}
		}
		put(x.labels[k], v, e)
	}
}

func (x *cacheIndex) remove(e *cached) {
	for name, fn := range x.fns {
		drop(x.fields[name], fn(e.obj), e.key)
	}
	for k, v := range labelsOf(e) {
		drop(x.labels[k], v, e.key)
		if len(x.labels[k]) == 0 {
			delete(x.labels, k)
		}
	}
}

func put(byValue map[string]entries, v string, e *cached) {
	if byValue[v] == nil {
		byValue[v] = entries{}
	}
	byValue[v][e.key] = e
}

func drop(byValue map[string]entries, v, key string) {
	delete(byValue[v], key)
	if len(byValue[v]) == 0 {
		delete(byValue, v)
	}
}

func labelsOf(e *cached) map[string]string {
	m, err := meta.Accessor(e.obj)
	if err != nil {
		return nil
	}
	return m.GetLabels()
}

// pick returns the smallest set of objects the hints narrow a list to;
// ok is false when no hint has an index.
func (x *cacheIndex) pick(h Hints) (entries, bool) {
	var best entries
	found := false
	consider := func(set entries) {
		if !found || len(set) < len(best) {
			best, found = set, true
		}
	}
	for f, v := range h.Fields {
		if byValue, ok := x.fields[f]; ok {
			consider(byValue[v])
		}
	}
	for k, v := range h.Labels {
		consider(x.labels[k][v])
	}
	return best, found
}
