package svckeys

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

func TestSelectingPods(t *testing.T) {
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, s := range []*corev1.Service{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "web"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "old"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "old"}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "external"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "b", Name: "web"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}}},
	} {
		if err := idx.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	pod := func(app string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "p", Labels: map[string]string{"app": app}}}
	}
	var got []string
	SelectingPods(corelisters.NewServiceLister(idx), func(k string) { got = append(got, k) },
		pod("web"), cache.DeletedFinalStateUnknown{Obj: pod("old")}, nil)
	slices.Sort(got)
	if !slices.Equal(got, []string{"a/old", "a/web"}) {
		t.Errorf("keys %v, want a/old and a/web (not the selectorless service, not namespace b's)", got)
	}
}

func TestOfSlice(t *testing.T) {
	slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "web-x",
		Labels: map[string]string{discoveryv1.LabelManagedBy: "me", discoveryv1.LabelServiceName: "web"}}}
	if k, ok := OfSlice(cache.DeletedFinalStateUnknown{Obj: slice}, "me"); !ok || k != "a/web" {
		t.Errorf("OfSlice = %q %v", k, ok)
	}
	if _, ok := OfSlice(slice, "someone-else"); ok {
		t.Error("a slice another controller manages was taken")
	}
	if _, ok := OfSlice(&corev1.Pod{}, "me"); ok {
		t.Error("a pod was taken for a slice")
	}
}
