package garbagecollector

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
)

// resource is one served resource the collector can look objects up in.
type resource struct {
	gvr        schema.GroupVersionResource
	kind       string
	namespaced bool
	watch      bool // listable, watchable and deletable: its objects are in the graph
}

// resources is what discovery found: every top-level resource by its
// group and kind (the first version discovery names, the preferred one).
type resources map[schema.GroupKind]resource

// ignored are the resources kube's collector does not watch.
var ignored = []schema.GroupResource{{Group: "", Resource: "events"}, {Group: "events.k8s.io", Resource: "events"}}

// discover lists the served resources. A partial answer (a group that
// failed) is used as far as it goes; an error only when nothing came.
func discover(d discovery.DiscoveryInterface) (resources, error) {
	_, lists, err := d.ServerGroupsAndResources()
	if err != nil && len(lists) == 0 {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	out := resources{}
	for _, list := range lists {
		gv, perr := schema.ParseGroupVersion(list.GroupVersion)
		if perr != nil {
			continue
		}
		for _, r := range list.APIResources {
			addResource(out, gv, r)
		}
	}
	return out, nil
}

func addResource(out resources, gv schema.GroupVersion, r metav1.APIResource) {
	if strings.Contains(r.Name, "/") || !slices.Contains(r.Verbs, "get") {
		return
	}
	gk := schema.GroupKind{Group: gv.Group, Kind: r.Kind}
	if _, seen := out[gk]; seen {
		return
	}
	gr := schema.GroupResource{Group: gv.Group, Resource: r.Name}
	watch := !slices.Contains(ignored, gr) && hasAll(r.Verbs, "list", "watch", "delete")
	out[gk] = resource{gvr: gv.WithResource(r.Name), kind: r.Kind, namespaced: r.Namespaced, watch: watch}
}

func hasAll(verbs metav1.Verbs, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(verbs, w) {
			return false
		}
	}
	return true
}

// forOwner is the resource an ownerReference points into.
func (rs resources) forOwner(ref metav1.OwnerReference) (resource, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return resource{}, fmt.Errorf("ownerReference %s %s: %w", ref.Kind, ref.Name, err)
	}
	r, ok := rs[schema.GroupKind{Group: gv.Group, Kind: ref.Kind}]
	if !ok {
		return resource{}, fmt.Errorf("ownerReference %s/%s %s: no such resource is served", ref.APIVersion, ref.Kind, ref.Name)
	}
	return r, nil
}
