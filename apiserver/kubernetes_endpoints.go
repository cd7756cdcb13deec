package apiserver

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// syncKubernetesEndpointsV1 keeps the v1 Endpoints default/kubernetes
// beside its EndpointSlice, as kube-apiserver's endpoint reconciler does
// (clients that read Endpoints find the API there): the same addresses,
// port https, labelled skip-mirror so that the mirroring controller makes
// no second slice of them. addrs are the addresses the slice holds.
func (s *Server) syncKubernetesEndpointsV1(ctx context.Context, addrs []string, port int) error {
	res, _ := s.reg.lookup("", "v1", "endpoints")
	ep := s.kubernetesEndpoints(addrs, port)
	res.strategy.defaults(ep)
	_, err := s.store(res).Create(ctx, "default", "kubernetes", ep)
	if !storage.IsExists(err) {
		return err
	}
	_, err = s.store(res).Update(ctx, "default", "kubernetes", func(cur runtime.Object) (runtime.Object, error) {
		c := cur.(*corev1.Endpoints)
		if apiequality.Semantic.DeepEqual(c.Subsets, ep.Subsets) && c.Labels[discoveryv1.LabelSkipMirror] == "true" {
			return nil, errUnchanged
		}
		c.Subsets = ep.Subsets
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		c.Labels[discoveryv1.LabelSkipMirror] = "true"
		return c, nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	return err
}

func (s *Server) kubernetesEndpoints(addrs []string, port int) *corev1.Endpoints {
	as := make([]corev1.EndpointAddress, len(addrs))
	for i, a := range addrs {
		as[i] = corev1.EndpointAddress{IP: a}
	}
	return &corev1.Endpoints{TypeMeta: metav1.TypeMeta{Kind: "Endpoints", APIVersion: "v1"},
		ObjectMeta: s.serverObjectMeta("kubernetes", map[string]string{discoveryv1.LabelSkipMirror: "true"}),
		Subsets: []corev1.EndpointSubset{{Addresses: as,
			Ports: []corev1.EndpointPort{{Name: "https", Port: int32(port), Protocol: corev1.ProtocolTCP}}}},
	}
}
