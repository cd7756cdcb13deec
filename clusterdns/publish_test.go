package clusterdns

import (
	"context"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

var pub = Publication{ServiceIP: netip.MustParseAddr("10.96.0.10"), ServerIP: netip.MustParseAddr("10.0.0.2")}

func TestPublishMakesTheServiceAndSliceAndRepairsThem(t *testing.T) {
	ctx := context.Background()
	client := fake.NewSimpleClientset()
	if ok, err := Publish(ctx, client, pub); !ok || err != nil {
		t.Fatalf("publish: %v %v", ok, err)
	}
	svc, err := client.CoreV1().Services("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{})
	if err != nil || svc.Spec.ClusterIP != "10.96.0.10" || len(svc.Spec.Ports) != 2 || svc.Spec.Selector != nil {
		t.Fatalf("service %+v %v", svc, err)
	}
	es, err := client.DiscoveryV1().EndpointSlices("kube-system").Get(ctx, sliceName, metav1.GetOptions{})
	if err != nil || es.Endpoints[0].Addresses[0] != "10.0.0.2" || es.Labels["kubernetes.io/service-name"] != "kube-dns" {
		t.Fatalf("slice %+v %v", es, err)
	}
	// Someone points it elsewhere: the next pass brings it back.
	es.Endpoints[0].Addresses = []string{"10.0.0.99"}
	client.DiscoveryV1().EndpointSlices("kube-system").Update(ctx, es, metav1.UpdateOptions{})
	if ok, err := Publish(ctx, client, pub); !ok || err != nil {
		t.Fatalf("again: %v %v", ok, err)
	}
	es, _ = client.DiscoveryV1().EndpointSlices("kube-system").Get(ctx, sliceName, metav1.GetOptions{})
	if es.Endpoints[0].Addresses[0] != "10.0.0.2" {
		t.Fatalf("not repaired: %v", es.Endpoints)
	}
}

// TestPublishLeavesAUsersKubeDNSAlone: a CoreDNS the user runs keeps its
// Service, and no slice of ours is added to it.
func TestPublishLeavesAUsersKubeDNSAlone(t *testing.T) {
	ctx := context.Background()
	theirs := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kube-dns", Labels: map[string]string{"k8s-app": "kube-dns"}},
		Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.10", Selector: map[string]string{"k8s-app": "kube-dns"}}}
	client := fake.NewSimpleClientset(theirs)
	if ok, err := Publish(ctx, client, pub); ok || err != nil {
		t.Fatalf("publish over theirs: %v %v", ok, err)
	}
	if l, _ := client.DiscoveryV1().EndpointSlices("kube-system").List(ctx, metav1.ListOptions{}); len(l.Items) != 0 {
		t.Fatalf("slices added to their Service: %v", l.Items)
	}
}
