package main

import (
	"context"
	"flag"
	"io"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
)

// --terminated-pod-gc-threshold as kube-controller-manager's: 12500 by
// default, and <= 0 turns the terminated pod collection off.
func TestTerminatedPodGCThresholdFlag(t *testing.T) {
	cases := []struct {
		args []string
		want int
	}{
		{nil, 12500},
		{[]string{"--terminated-pod-gc-threshold=3"}, 3},
		{[]string{"--terminated-pod-gc-threshold=0"}, -1},
		{[]string{"--terminated-pod-gc-threshold=-5"}, -1},
	}
	for _, tc := range cases {
		fs := flag.NewFlagSet("server", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		o := serverGCFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if got := o.podGCConfig().TerminatedPodThreshold; got != tc.want {
			t.Errorf("%v: threshold %d, want %d", tc.args, got, tc.want)
		}
	}
}

// otherInformers stands for the collector's metadata informers: it
// records what was asked of it.
type otherInformers struct{ asked []schema.GroupVersionResource }

func (o *otherInformers) ForResource(gvr schema.GroupVersionResource) informers.GenericInformer {
	o.asked = append(o.asked, gvr)
	return nil
}
func (o *otherInformers) Start(<-chan struct{}) {}
func (o *otherInformers) Shutdown()             {}

// The collector reads pods from the controllers' pod informer, as they
// are: its metadata transform is not applied to objects other controllers
// read. Every other resource comes from its own informers.
func TestCollectorReadsPodsFromTheControllersInformer(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "u1"},
		Spec: corev1.PodSpec{NodeName: "n1"}}
	factory := informers.NewSharedInformerFactory(fake.NewClientset(pod), 0)
	shared := factory.Core().V1().Pods().Informer()
	others := &otherInformers{}
	f := withPods(others, factory)

	gi := f.ForResource(corev1.SchemeGroupVersion.WithResource("pods"))
	inf := gi.Informer()
	if inf.GetIndexer() != shared.GetIndexer() {
		t.Fatal("the collector's pod informer is not the controllers' one")
	}
	transformed := false
	if err := inf.SetTransform(func(obj any) (any, error) { transformed = true; return obj, nil }); err != nil {
		t.Fatalf("SetTransform: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer func() {
		cancel() // stops the informers, which Shutdown waits for
		factory.Shutdown()
	}()
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), shared.HasSynced) {
		t.Fatal("pod informer did not sync")
	}
	got, err := gi.Lister().ByNamespace("default").Get("web")
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := got.(*corev1.Pod); !ok || transformed || p.Spec.NodeName != "n1" {
		t.Fatalf("the pod as the collector reads it: %T (transform ran: %v), want the controllers' *v1.Pod", got, transformed)
	}
	if len(others.asked) != 0 {
		t.Fatalf("pods were also asked of the metadata informers: %v", others.asked)
	}

	cms := corev1.SchemeGroupVersion.WithResource("configmaps")
	f.ForResource(cms)
	if len(others.asked) != 1 || others.asked[0] != cms {
		t.Fatalf("configmaps: asked of the metadata informers %v, want [%v]", others.asked, cms)
	}
}
