package allocator

import (
	"context"
	"strings"
)

// MapView is an in-memory View: key to owner.
type MapView map[Key]string

var _ View = MapView{}

// Owner returns k's owner, "" when free.
func (m MapView) Owner(_ context.Context, k Key) (string, error) { return m[k], nil }

// List returns the keys under prefix.
func (m MapView) List(_ context.Context, prefix string) (map[Key]string, error) {
	out := map[Key]string{}
	for k, v := range m {
		if strings.HasPrefix(string(k), prefix) {
			out[k] = v
		}
	}
	return out, nil
}

// Hold records what svc holds, as the etcd Plan would after a write.
func (m MapView) Hold(owner string, keys []Key) {
	for _, k := range keys {
		m[k] = owner
	}
}
