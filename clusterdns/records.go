package clusterdns

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// Records is what the server reads its answers from: the informers'
// caches, through indexes.
type Records interface {
	// Service is the Service ns/name.
	Service(ns, name string) (*corev1.Service, bool)
	// Slices are the EndpointSlices of the Service ns/name.
	Slices(ns, service string) []*discoveryv1.EndpointSlice
	// ServicesByIP are the Services with this ClusterIP.
	ServicesByIP(ip netip.Addr) []*corev1.Service
	// SlicesByAddress are the EndpointSlices with an endpoint at ip.
	SlicesByAddress(ip netip.Addr) []*discoveryv1.EndpointSlice
	// HasSynced says whether the caches have their first lists.
	HasSynced() bool
}

const (
	indexService = "service"   // slices: ns/kubernetes.io/service-name
	indexIP      = "ip"        // services: ClusterIPs
	indexAddress = "addresses" // slices: endpoint addresses
)

// informerRecords are Records from shared informers.
type informerRecords struct {
	services cache.SharedIndexInformer
	slices   cache.SharedIndexInformer
}

// NewRecords adds the indexes to the factory's Service and EndpointSlice
// informers; start the factory after.
func NewRecords(factory informers.SharedInformerFactory) (Records, error) {
	r := &informerRecords{
		services: factory.Core().V1().Services().Informer(),
		slices:   factory.Discovery().V1().EndpointSlices().Informer(),
	}
	if err := r.services.AddIndexers(cache.Indexers{indexIP: serviceIPs}); err != nil {
		return nil, err
	}
	if err := r.slices.AddIndexers(cache.Indexers{indexService: sliceService, indexAddress: sliceAddresses}); err != nil {
		return nil, err
	}
	return r, nil
}

func serviceIPs(obj any) ([]string, error) {
	s, ok := obj.(*corev1.Service)
	if !ok {
		return nil, nil
	}
	var ips []string
	for _, ip := range s.Spec.ClusterIPs {
		if a, err := netip.ParseAddr(ip); err == nil {
			ips = append(ips, a.String())
		}
	}
	return ips, nil
}

func sliceService(obj any) ([]string, error) {
	es, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok || es.Labels[discoveryv1.LabelServiceName] == "" {
		return nil, nil
	}
	return []string{es.Namespace + "/" + es.Labels[discoveryv1.LabelServiceName]}, nil
}

func sliceAddresses(obj any) ([]string, error) {
	es, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return nil, nil
	}
	var out []string
	for _, ep := range es.Endpoints {
		for _, a := range ep.Addresses {
			if ip, err := netip.ParseAddr(a); err == nil {
				out = append(out, ip.String())
			}
		}
	}
	return out, nil
}

func (r *informerRecords) Service(ns, name string) (*corev1.Service, bool) {
	obj, ok, _ := r.services.GetIndexer().GetByKey(ns + "/" + name)
	if !ok {
		return nil, false
	}
	return obj.(*corev1.Service), true
}

func (r *informerRecords) Slices(ns, service string) []*discoveryv1.EndpointSlice {
	return byIndex[*discoveryv1.EndpointSlice](r.slices, indexService, ns+"/"+service)
}

func (r *informerRecords) ServicesByIP(ip netip.Addr) []*corev1.Service {
	return byIndex[*corev1.Service](r.services, indexIP, ip.String())
}

func (r *informerRecords) SlicesByAddress(ip netip.Addr) []*discoveryv1.EndpointSlice {
	return byIndex[*discoveryv1.EndpointSlice](r.slices, indexAddress, ip.String())
}

func (r *informerRecords) HasSynced() bool {
	return r.services.HasSynced() && r.slices.HasSynced()
}

func byIndex[T any](inf cache.SharedIndexInformer, index, key string) []T {
	objs, _ := inf.GetIndexer().ByIndex(index, key)
	out := make([]T, 0, len(objs))
	for _, o := range objs {
		if t, ok := o.(T); ok {
			out = append(out, t)
		}
	}
	return out
}
