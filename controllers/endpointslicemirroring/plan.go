package endpointslicemirroring

import (
	"maps"
	"sort"

	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
)

// Actions are the writes that turn the existing mirrored slices into the
// desired ones. Updates are existing slices, changed; creates have a
// generateName.
type Actions struct {
	Create []*discoveryv1.EndpointSlice
	Update []*discoveryv1.EndpointSlice
	Delete []*discoveryv1.EndpointSlice
}

// Empty reports whether nothing needs writing.
func (a Actions) Empty() bool { return len(a.Create)+len(a.Update)+len(a.Delete) == 0 }

// Plan matches desired slices with existing ones by address type and port
// set (existing ones in name order): a match is updated if it differs, a
// desired slice without one is created, an existing one left over is
// deleted.
func Plan(desired, existing []*discoveryv1.EndpointSlice) Actions {
	byKey := map[string][]*discoveryv1.EndpointSlice{}
	for _, s := range sortedByName(existing) {
		k := sliceKey(s.AddressType, s.Ports)
		byKey[k] = append(byKey[k], s)
	}
	var out Actions
	for _, want := range desired {
		k := sliceKey(want.AddressType, want.Ports)
		olds := byKey[k]
		if len(olds) == 0 {
			out.Create = append(out.Create, want)
			continue
		}
		old := olds[0]
		byKey[k] = olds[1:]
		if changed(old, want) {
			out.Update = append(out.Update, updated(old, want))
		}
	}
	for _, k := range sortedKeys(byKey) {
		out.Delete = append(out.Delete, byKey[k]...)
	}
	return out
}

func changed(old, want *discoveryv1.EndpointSlice) bool {
	return !apiequality.Semantic.DeepEqual(old.Endpoints, want.Endpoints) ||
		!apiequality.Semantic.DeepEqual(old.Ports, want.Ports) ||
		!maps.Equal(old.Labels, want.Labels) || !maps.Equal(old.Annotations, want.Annotations) ||
		!apiequality.Semantic.DeepEqual(old.OwnerReferences, want.OwnerReferences)
}

// updated is old with want's content (name and resourceVersion kept).
func updated(old, want *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
	s := old.DeepCopy()
	s.Labels, s.Annotations, s.OwnerReferences = want.Labels, want.Annotations, want.OwnerReferences
	s.Ports, s.Endpoints = want.Ports, want.Endpoints
	return s
}

func sortedByName(ss []*discoveryv1.EndpointSlice) []*discoveryv1.EndpointSlice {
	out := append([]*discoveryv1.EndpointSlice(nil), ss...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func sortedKeys(m map[string][]*discoveryv1.EndpointSlice) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
