package clusterdns

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

const (
	// ServiceName is the cluster DNS Service in kube-system, as kubeadm
	// names CoreDNS's.
	ServiceName = "kube-dns"
	// sliceName is our EndpointSlice of it.
	sliceName = "kube-dns-nodeagent"
	// managedBy marks the Service and the slice as ours.
	managedBy = "dns.nodeagent.io"
)

// Publication is what Publish keeps in the API: the Service's ClusterIP
// and the address the server answers on (port 53).
type Publication struct {
	ServiceIP netip.Addr
	ServerIP  netip.Addr
}

// Publish creates the kube-dns Service (selectorless, at ServiceIP, ports
// dns 53/UDP and dns-tcp 53/TCP) and its EndpointSlice (ServerIP), or
// brings ours back to that. A kube-dns Service that is not ours (a CoreDNS
// the user runs) is left alone, and so is its traffic: ok is false.
func Publish(ctx context.Context, client kubernetes.Interface, p Publication) (ok bool, err error) {
	svc, err := client.CoreV1().Services(metav1.NamespaceSystem).Get(ctx, ServiceName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		svc, err = client.CoreV1().Services(metav1.NamespaceSystem).Create(ctx, kubeDNSService(p), metav1.CreateOptions{})
	}
	if err != nil {
		return false, fmt.Errorf("kube-dns Service: %w", err)
	}
	if svc.Labels[discoveryv1.LabelManagedBy] != managedBy {
		return false, nil
	}
	if svc.Spec.ClusterIP != p.ServiceIP.String() {
		return false, fmt.Errorf("kube-dns Service has ClusterIP %s, not the cluster DNS address %s (delete it to have it made again)", svc.Spec.ClusterIP, p.ServiceIP)
	}
	return true, publishSlice(ctx, client, p)
}

func publishSlice(ctx context.Context, client kubernetes.Interface, p Publication) error {
	want := kubeDNSSlice(p)
	api := client.DiscoveryV1().EndpointSlices(metav1.NamespaceSystem)
	cur, err := api.Get(ctx, sliceName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = api.Create(ctx, want, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	if cur.AddressType == want.AddressType && equality.Semantic.DeepEqual(cur.Endpoints, want.Endpoints) &&
		equality.Semantic.DeepEqual(cur.Ports, want.Ports) && equality.Semantic.DeepEqual(cur.Labels, want.Labels) {
		return nil
	}
	if cur.AddressType != want.AddressType {
		if err := api.Delete(ctx, sliceName, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		_, err = api.Create(ctx, want, metav1.CreateOptions{})
		return err
	}
	cur.Labels, cur.Endpoints, cur.Ports = want.Labels, want.Endpoints, want.Ports
	_, err = api.Update(ctx, cur, metav1.UpdateOptions{})
	return err
}

func kubeDNSService(p Publication) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: ServiceName, Namespace: metav1.NamespaceSystem, Labels: map[string]string{
			"k8s-app": "kube-dns", "kubernetes.io/name": "nodeagent-dns", discoveryv1.LabelManagedBy: managedBy}},
		Spec: corev1.ServiceSpec{
			ClusterIP: p.ServiceIP.String(),
			Ports: []corev1.ServicePort{
				{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53, TargetPort: intstr.FromInt32(53)},
				{Name: "dns-tcp", Protocol: corev1.ProtocolTCP, Port: 53, TargetPort: intstr.FromInt32(53)},
			},
		},
	}
}

func kubeDNSSlice(p Publication) *discoveryv1.EndpointSlice {
	family := discoveryv1.AddressTypeIPv4
	if p.ServerIP.Is6() {
		family = discoveryv1.AddressTypeIPv6
	}
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: sliceName, Namespace: metav1.NamespaceSystem, Labels: map[string]string{
			discoveryv1.LabelServiceName: ServiceName, discoveryv1.LabelManagedBy: managedBy}},
		AddressType: family,
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{p.ServerIP.String()},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)}}},
		Ports: []discoveryv1.EndpointPort{
			{Name: ptr.To("dns"), Protocol: ptr.To(corev1.ProtocolUDP), Port: ptr.To[int32](53)},
			{Name: ptr.To("dns-tcp"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To[int32](53)},
		},
	}
}

// KeepPublished publishes now and every period until ctx ends, logging
// what fails and, once, a kube-dns Service that is not ours.
func KeepPublished(ctx context.Context, client kubernetes.Interface, p Publication, period time.Duration, log *slog.Logger) {
	t := time.NewTicker(period)
	defer t.Stop()
	warned := false
	for {
		ok, err := Publish(ctx, client, p)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("publishing the kube-dns Service", "err", err)
		case err == nil && !ok && !warned:
			warned = true
			log.Warn("kube-system/kube-dns exists and is not nodeagent's: left alone; pods' ClusterFirst DNS goes where it points")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
