package namespace

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// served is what discovery answers: namespaced resources of several
// groups (services without deletecollection, as kube's), a subresource,
// a resource that cannot be deleted, and a cluster-scoped one.
var served = []*metav1.APIResourceList{
	{GroupVersion: "v1", APIResources: []metav1.APIResource{
		{Name: "endpoints", Namespaced: true, Kind: "Endpoints", Verbs: metav1.Verbs{"list", "delete", "deletecollection"}},
		{Name: "services", Namespaced: true, Kind: "Service", Verbs: metav1.Verbs{"list", "delete"}},
		{Name: "pods/log", Namespaced: true, Kind: "Pod", Verbs: metav1.Verbs{"get"}},
		{Name: "bindings", Namespaced: true, Kind: "Binding", Verbs: metav1.Verbs{"create"}},
		{Name: "nodes", Namespaced: false, Kind: "Node", Verbs: metav1.Verbs{"list", "delete", "deletecollection"}},
	}},
	{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{
		{Name: "deployments", Namespaced: true, Kind: "Deployment", Verbs: metav1.Verbs{"list", "delete", "deletecollection"}},
	}},
	{GroupVersion: "rbac.authorization.k8s.io/v1", APIResources: []metav1.APIResource{
		{Name: "rolebindings", Namespaced: true, Kind: "RoleBinding", Verbs: metav1.Verbs{"list", "delete", "deletecollection"}},
	}},
}

var listKinds = map[schema.GroupVersionResource]string{
	{Version: "v1", Resource: "endpoints"}:                                        "EndpointsList",
	{Version: "v1", Resource: "services"}:                                         "ServiceList",
	{Version: "v1", Resource: "nodes"}:                                            "NodeList",
	{Group: "apps", Version: "v1", Resource: "deployments"}:                       "DeploymentList",
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}: "RoleBindingList",
}

func object(apiVersion, kind, ns, name string) *unstructured.Unstructured {
	o := &unstructured.Unstructured{}
	o.SetAPIVersion(apiVersion)
	o.SetKind(kind)
	o.SetNamespace(ns)
	o.SetName(name)
	return o
}

// A deleted namespace's content of every served namespaced resource goes
// (workloads, RoleBindings, hand-written Endpoints, services one by one),
// and nothing of another namespace or cluster-scoped. Before, a fixed list
// of core kinds left Deployments and RoleBindings behind, to reappear in
// a namespace made again with the same name.
func TestDeleteContentDeletesEveryNamespacedResource(t *testing.T) {
	var objs []runtime.Object
	for _, ns := range []string{"gone", "kept"} {
		objs = append(objs, object("v1", "Endpoints", ns, "db"), object("v1", "Service", ns, "web"),
			object("apps/v1", "Deployment", ns, "web"), object("rbac.authorization.k8s.io/v1", "RoleBinding", ns, "admins"))
	}
	objs = append(objs, object("v1", "Node", "", "n1"))
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, objs...)
	// deletecollection as the API server does it; services have none.
	dyn.PrependReactor("delete-collection", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		gvr := a.GetResource()
		if gvr.Resource == "services" {
			return true, nil, apierrors.NewMethodNotSupported(gvr.GroupResource(), "deletecollection")
		}
		// The tracker, not the client: the fake holds its lock here.
		kind := strings.TrimSuffix(listKinds[gvr], "List")
		l, err := dyn.Tracker().List(gvr, gvr.GroupVersion().WithKind(kind), a.GetNamespace())
		if err != nil {
			return true, nil, err
		}
		for _, o := range l.(*unstructured.UnstructuredList).Items {
			if err := dyn.Tracker().Delete(gvr, o.GetNamespace(), o.GetName()); err != nil {
				return true, nil, err
			}
		}
		return true, nil, nil
	})
	client := fake.NewClientset()
	client.Discovery().(*fakediscovery.FakeDiscovery).Resources = served
	c := New(client, dyn, informers.NewSharedInformerFactory(client, 0), slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	left, err := c.deleteContent(ctx, "gone")
	if err != nil || left != 0 {
		t.Fatalf("deleteContent: %d left, %v", left, err)
	}
	for gvr := range listKinds {
		wants := map[string]int{"gone": 0, "kept": 1}
		if gvr.Resource == "nodes" {
			wants = map[string]int{"": 1}
		}
		for ns, want := range wants {
			l, err := dyn.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
			if err != nil || len(l.Items) != want {
				t.Errorf("%s in %q: %d, want %d (%v)", gvr.Resource, ns, len(l.Items), want, err)
			}
		}
	}
}
