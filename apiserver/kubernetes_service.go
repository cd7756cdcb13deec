package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// kubernetesServiceSyncPeriod is how often the kubernetes Service and its
// EndpointSlice are put back if someone changed or deleted them
// (kube-apiserver's --endpoint-reconciler runs every 10s too).
const kubernetesServiceSyncPeriod = 10 * time.Second

// errNoEndpoint: no advertise address can be an endpoint (loopback, a
// name); the kubernetes Service then has no EndpointSlice.
var errNoEndpoint = errors.New("no advertise address can be a service endpoint")

func (s *Server) keepKubernetesService(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.syncKubernetesServiceOnce(ctx); err != nil && !errors.Is(err, errNoEndpoint) && ctx.Err() == nil {
				s.log.Warn("keep the kubernetes service", "err", err)
			}
		}
	}
}

// ensureKubernetesService is the start-up sync; an advertise address that
// cannot be an endpoint is reported, not fatal.
func (s *Server) ensureKubernetesService(ctx context.Context) error {
	err := s.syncKubernetesServiceOnce(ctx)
	switch {
	case errors.Is(err, errNoEndpoint):
		s.log.Warn("the kubernetes service gets no EndpointSlice", "advertise", s.advertise, "err", err)
	case apierrors.IsInvalid(err):
		s.log.Error("the kubernetes service cannot have its IP", "err", err)
	default:
		return err
	}
	return nil
}

func (s *Server) syncKubernetesServiceOnce(ctx context.Context) error {
	addrs, err := s.apiServerAddresses(ctx)
	if err != nil {
		return err
	}
	return s.syncKubernetesService(ctx, addrs, s.cfg.Port)
}

// syncKubernetesService makes default/kubernetes a ClusterIP Service on the
// range's first IP, port 443 to the secure port, and its EndpointSlice
// point at the servers' addresses, port port.
func (s *Server) syncKubernetesService(ctx context.Context, addrs []string, port int) error {
	if err := s.syncKubernetesServiceObject(ctx, port); err != nil {
		return fmt.Errorf("kubernetes service: %w", err)
	}
	if err := s.syncKubernetesEndpoints(ctx, addrs, port); err != nil {
		return fmt.Errorf("kubernetes endpointslice: %w", err)
	}
	return nil
}

func (s *Server) kubernetesServicePorts(port int) []corev1.ServicePort {
	return []corev1.ServicePort{{Name: "https", Protocol: corev1.ProtocolTCP, Port: 443, TargetPort: intstr.FromInt32(int32(port))}}
}

func (s *Server) syncKubernetesServiceObject(ctx context.Context, port int) error {
	res := s.services.res
	ip := s.services.ips.First().String()
	svc := &corev1.Service{TypeMeta: metav1.TypeMeta{Kind: "Service", APIVersion: "v1"},
		ObjectMeta: s.serverObjectMeta("kubernetes", map[string]string{"component": "apiserver", "provider": "kubernetes"}),
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: ip,
			Ports: s.kubernetesServicePorts(port)}}
	res.strategy.defaults(svc)
	_, err := s.storeCreate(ctx, res, "default", "kubernetes", svc, false)
	if !storage.IsExists(err) {
		return err
	}
	_, err = s.store(res).Update(ctx, "default", "kubernetes", func(cur runtime.Object) (runtime.Object, error) {
		c := cur.(*corev1.Service)
		want := s.kubernetesServicePorts(port)
		res.strategy.defaults(&corev1.Service{Spec: corev1.ServiceSpec{Ports: want}})
		if apiequality.Semantic.DeepEqual(c.Spec.Ports, want) {
			return nil, errUnchanged
		}
		c.Spec.Ports = want
		return c, res.strategy.assign(ctx, c, cur)
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	return err
}

var errUnchanged = errors.New("unchanged")

func (s *Server) serverObjectMeta(name string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "default", UID: newUID(), Generation: 1,
		CreationTimestamp: metav1.NewTime(s.now()), Labels: labels}
}

func (s *Server) syncKubernetesEndpoints(ctx context.Context, addrs []string, port int) error {
	res, _ := s.reg.lookup("discovery.k8s.io", "v1", "endpointslices")
	es := s.kubernetesEndpointSlice(s.endpointAddresses(res, addrs), port)
	if len(es.Endpoints) == 0 {
		return fmt.Errorf("%w: %q", errNoEndpoint, addrs)
	}
	if err := s.syncKubernetesEndpointsV1(ctx, s.endpointAddresses(res, addrs), port); err != nil {
		return fmt.Errorf("v1 endpoints: %w", err)
	}
	res.strategy.defaults(es)
	_, err := s.store(res).Create(ctx, "default", "kubernetes", es)
	if !storage.IsExists(err) {
		return err
	}
	_, err = s.store(res).Update(ctx, "default", "kubernetes", func(cur runtime.Object) (runtime.Object, error) {
		c := cur.(*discoveryv1.EndpointSlice)
		if c.AddressType == es.AddressType && apiequality.Semantic.DeepEqual(c.Endpoints, es.Endpoints) &&
			apiequality.Semantic.DeepEqual(c.Ports, es.Ports) {
			return nil, errUnchanged
		}
		c.AddressType, c.Endpoints, c.Ports = es.AddressType, es.Endpoints, es.Ports
		return c, nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	return err
}

// endpointAddresses keeps the addresses that may be endpoints: IPv4, and
// valid in an EndpointSlice (not loopback or link-local).
func (s *Server) endpointAddresses(res *resource, addrs []string) []string {
	var out []string
	for _, a := range addrs {
		if ip, err := netip.ParseAddr(a); err != nil || !ip.Is4() {
			continue
		}
		if errs := res.strategy.validate(s.kubernetesEndpointSlice([]string{a}, 443)); len(errs) > 0 {
			continue
		}
		out = append(out, a)
	}
	return out
}

func (s *Server) kubernetesEndpointSlice(addrs []string, port int) *discoveryv1.EndpointSlice {
	ready, name, proto, p := true, "https", corev1.ProtocolTCP, int32(port)
	eps := make([]discoveryv1.Endpoint, len(addrs))
	for i, a := range addrs {
		eps[i] = discoveryv1.Endpoint{Addresses: []string{a}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}
	}
	return &discoveryv1.EndpointSlice{TypeMeta: metav1.TypeMeta{Kind: "EndpointSlice", APIVersion: "discovery.k8s.io/v1"},
		ObjectMeta:  s.serverObjectMeta("kubernetes", map[string]string{discoveryv1.LabelServiceName: "kubernetes"}),
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   eps,
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Protocol: &proto, Port: &p}},
	}
}
