package apiserver

import (
	"encoding/json"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// checkStrategicWork refuses (413) a strategic merge patch whose list merges
// could cost more than maxStrategicListElements squared: it counts the
// elements of every list in the patch and of every list of the original at
// a key path the patch names (over all elements of the lists on the way, so
// it never undercounts). Patches that do not parse are left to the merge,
// which reports them.
func checkStrategicWork(original, patch []byte) error {
	var p, o any
	if json.Unmarshal(patch, &p) != nil || json.Unmarshal(original, &o) != nil {
		return nil
	}
	paths := pathSet{}
	n := patchLists(p, paths)
	if n <= maxStrategicListElements {
		n += originalLists(o, paths)
	}
	if n > maxStrategicListElements {
		return apierrors.NewRequestEntityTooLargeError(fmt.Sprintf(
			"a strategic merge patch may merge at most %d list elements (patch and object together), this one %d; use a JSON merge patch or an update", maxStrategicListElements, n))
	}
	return nil
}

// pathSet is a tree of the key paths a patch names; the key "[]" stands for
// the elements of a list.
type pathSet map[string]pathSet

func (ps pathSet) child(k string) pathSet {
	c, ok := ps[k]
	if !ok {
		c = pathSet{}
		ps[k] = c
	}
	return c
}

// directiveKey maps the strategic merge directives that name a sibling list
// ($setElementOrder/env, $deleteFromPrimitiveList/finalizers) to that list.
func directiveKey(k string) string {
	for _, prefix := range []string{"$setElementOrder/", "$deleteFromPrimitiveList/"} {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			return rest
		}
	}
	return k
}

// patchLists counts the list elements in v and records its key paths in ps.
func patchLists(v any, ps pathSet) int {
	switch t := v.(type) {
	case map[string]any:
		n := 0
		for k, e := range t {
			n += patchLists(e, ps.child(directiveKey(k)))
		}
		return n
	case []any:
		n := len(t)
		elems := ps.child("[]")
		for _, e := range t {
			n += patchLists(e, elems)
		}
		return n
	}
	return 0
}

// originalLists counts the elements of the lists in v at the paths in ps.
func originalLists(v any, ps pathSet) int {
	switch t := v.(type) {
	case map[string]any:
		n := 0
		for k, sub := range ps {
			if e, ok := t[k]; ok {
				n += originalLists(e, sub)
			}
		}
		return n
	case []any:
		n := len(t)
		if sub, ok := ps["[]"]; ok {
			for _, e := range t {
				n += originalLists(e, sub)
			}
		}
		return n
	}
	return 0
}
