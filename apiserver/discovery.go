package apiserver

import (
	"mime"
	"net/http"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
)

// serveDiscovery answers /version, /api, /apis and the group-version
// resource lists; it reports false for any other path.
func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request) bool {
	parts := splitPath(r.URL.Path)
	var obj runtime.Object
	switch {
	case r.URL.Path == "/version":
		s.writeJSON(w, s.versionInfo())
		return true
	case len(parts) == 1 && (parts[0] == "api" || parts[0] == "apis"):
		if v, ok := aggregatedVersion(r); ok {
			s.writeAggregated(w, v, parts[0] == "api")
			return true
		}
		obj = s.legacyRoot(parts[0] == "api")
	case len(parts) == 2 && parts[0] == "api":
		obj = s.resourceList(schema.GroupVersion{Version: parts[1]})
	case len(parts) == 2 && parts[0] == "apis":
		obj = s.apiGroup(parts[1])
	case len(parts) == 3 && parts[0] == "apis":
		obj = s.resourceList(schema.GroupVersion{Group: parts[1], Version: parts[2]})
	default:
		return s.serveOpenAPI(w, r)
	}
	if obj == nil {
		return false
	}
	s.codecs.writeObject(w, http.StatusOK, obj, output{})
	return true
}

func (s *Server) versionInfo() version.Info {
	return version.Info{Major: "1", Minor: "37", GitVersion: "v1.37.2-nodeagent", Platform: "linux/amd64",
		GoVersion: goVersion(), Compiler: "gc", GitCommit: "nodeagent", GitTreeState: "clean", BuildDate: "2026-11-22T00:00:00Z"}
}

// legacyRoot is /api (APIVersions) or /apis (APIGroupList).
func (s *Server) legacyRoot(core bool) runtime.Object {
	if core {
		return &metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"},
			ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: s.advertise}}}
	}
	list := &metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
	seen := map[string]bool{}
	for _, gv := range s.groupVersions() {
		if gv.Group != "" && !seen[gv.Group] {
			seen[gv.Group] = true
			list.Groups = append(list.Groups, *s.apiGroup(gv.Group))
		}
	}
	return list
}

// apiGroup lists a group's versions, the preferred (first) one first.
func (s *Server) apiGroup(group string) *metav1.APIGroup {
	var g *metav1.APIGroup
	for _, gv := range s.groupVersions() {
		if gv.Group != group || group == "" {
			continue
		}
		v := metav1.GroupVersionForDiscovery{GroupVersion: gv.String(), Version: gv.Version}
		if g == nil {
			g = &metav1.APIGroup{TypeMeta: metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}, Name: group, PreferredVersion: v}
		}
		g.Versions = append(g.Versions, v)
	}
	return g
}

// resourceList is the legacy APIResourceList of one group version.
func (s *Server) resourceList(gv schema.GroupVersion) runtime.Object {
	rs := s.inGroupVersion(gv)
	if len(rs) == 0 {
		return nil
	}
	list := &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv.String()}
	for _, r := range rs {
		list.APIResources = append(list.APIResources, metav1.APIResource{Name: r.plural, SingularName: r.singular,
			Namespaced: r.namespaced, Kind: r.gvk.Kind, Verbs: r.objectVerbs(), ShortNames: r.shortNames, Categories: r.categories})
		for _, sub := range r.subresources {
			gvk := subresourceGVK(r, sub)
			res := metav1.APIResource{Name: r.plural + "/" + sub, Namespaced: r.namespaced, Kind: gvk.Kind, Verbs: subresourceVerbs[sub]}
			if gvk.GroupVersion() != r.groupVersion() {
				res.Group, res.Version = gvk.Group, gvk.Version
			}
			list.APIResources = append(list.APIResources, res)
		}
	}
	return list
}

// subresourceGVK is the kind a subresource takes and answers.
func subresourceGVK(r *resource, sub string) schema.GroupVersionKind {
	switch sub {
	case "binding":
		return r.gvk.GroupVersion().WithKind("Binding")
	case "log":
		return r.gvk.GroupVersion().WithKind("Pod")
	case "exec":
		return r.gvk.GroupVersion().WithKind("PodExecOptions")
	case "attach":
		return r.gvk.GroupVersion().WithKind("PodAttachOptions")
	case "portforward":
		return r.gvk.GroupVersion().WithKind("PodPortForwardOptions")
	case "token":
		return tokenRequestGVK
	case "scale":
		return scaleGVK
	}
	return r.gvk
}

// aggregatedVersion reports whether the client asked for aggregated
// discovery (apidiscovery.k8s.io v2 or v2beta1) and which version.
func aggregatedVersion(r *http.Request) (string, bool) {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		_, p, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && p["g"] == "apidiscovery.k8s.io" && p["as"] == "APIGroupDiscoveryList" && (p["v"] == "v2" || p["v"] == "v2beta1") {
			return p["v"], true
		}
	}
	return "", false
}

// writeAggregated answers /api or /apis with an APIGroupDiscoveryList.
func (s *Server) writeAggregated(w http.ResponseWriter, v string, core bool) {
	list := &apidiscoveryv2.APIGroupDiscoveryList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupDiscoveryList", APIVersion: "apidiscovery.k8s.io/" + v}}
	index := map[string]int{}
	for _, gv := range s.groupVersions() {
		if (gv.Group == "") != core {
			continue
		}
		v := apidiscoveryv2.APIVersionDiscovery{Version: gv.Version, Resources: s.discoveredResources(gv), Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent}
		if i, ok := index[gv.Group]; ok {
			list.Items[i].Versions = append(list.Items[i].Versions, v)
			continue
		}
		index[gv.Group] = len(list.Items)
		list.Items = append(list.Items, apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: gv.Group},
			Versions: []apidiscoveryv2.APIVersionDiscovery{v}})
	}
	w.Header().Set("Content-Type", "application/json;g=apidiscovery.k8s.io;v="+v+";as=APIGroupDiscoveryList")
	w.WriteHeader(http.StatusOK)
	encodeJSON(w, list)
}

func (s *Server) discoveredResources(gv schema.GroupVersion) []apidiscoveryv2.APIResourceDiscovery {
	var out []apidiscoveryv2.APIResourceDiscovery
	for _, r := range s.inGroupVersion(gv) {
		scope := apidiscoveryv2.ScopeCluster
		if r.namespaced {
			scope = apidiscoveryv2.ScopeNamespace
		}
		kind := metav1.GroupVersionKind{Group: r.gvk.Group, Version: r.gvk.Version, Kind: r.gvk.Kind}
		d := apidiscoveryv2.APIResourceDiscovery{Resource: r.plural, ResponseKind: &kind, Scope: scope,
			SingularResource: r.singular, Verbs: r.objectVerbs(), ShortNames: r.shortNames, Categories: r.categories}
		for _, sub := range r.subresources {
			gvk := subresourceGVK(r, sub)
			sk := metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind}
			d.Subresources = append(d.Subresources, apidiscoveryv2.APISubresourceDiscovery{Subresource: sub, ResponseKind: &sk, Verbs: subresourceVerbs[sub]})
		}
		out = append(out, d)
	}
	return out
}
