package defaults

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestServiceMinimal(t *testing.T) {
	s := &corev1.Service{Spec: corev1.ServiceSpec{
		Selector: map[string]string{"app": "web"},
		Ports:    []corev1.ServicePort{{Port: 80}},
	}}
	want := corev1.ServiceSpec{
		Selector:              map[string]string{"app": "web"},
		Ports:                 []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(80)}},
		Type:                  corev1.ServiceTypeClusterIP,
		SessionAffinity:       corev1.ServiceAffinityNone,
		IPFamilyPolicy:        ptrTo(corev1.IPFamilyPolicySingleStack),
		IPFamilies:            []corev1.IPFamily{corev1.IPv4Protocol},
		InternalTrafficPolicy: ptrTo(corev1.ServiceInternalTrafficPolicyCluster),
	}
	Service(s)
	assertEqual(t, s.Spec, want)
	again := s.DeepCopy()
	Service(again)
	assertEqual(t, again, s)
}

func TestServiceDefaults(t *testing.T) {
	tests := []struct {
		name  string
		spec  corev1.ServiceSpec
		check func(t *testing.T, s corev1.ServiceSpec)
	}{{
		name: "named targetPort kept",
		spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolUDP}}},
		check: func(t *testing.T, s corev1.ServiceSpec) {
			if p := s.Ports[0]; p.TargetPort != intstr.FromString("http") || p.Protocol != corev1.ProtocolUDP {
				t.Errorf("port overwritten: %+v", p)
			}
		},
	}, {
		name: "NodePort gets externalTrafficPolicy",
		spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort},
		check: func(t *testing.T, s corev1.ServiceSpec) {
			if s.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyCluster {
				t.Errorf("externalTrafficPolicy = %q", s.ExternalTrafficPolicy)
			}
			if s.AllocateLoadBalancerNodePorts != nil {
				t.Errorf("allocateLoadBalancerNodePorts set on NodePort")
			}
		},
	}, {
		name: "LoadBalancer",
		spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer},
		check: func(t *testing.T, s corev1.ServiceSpec) {
			if s.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyCluster || s.AllocateLoadBalancerNodePorts == nil || !*s.AllocateLoadBalancerNodePorts {
				t.Errorf("LoadBalancer defaults missing: %+v", s)
			}
		},
	}, {
		name: "ClusterIP has no externalTrafficPolicy",
		spec: corev1.ServiceSpec{},
		check: func(t *testing.T, s corev1.ServiceSpec) {
			if s.ExternalTrafficPolicy != "" {
				t.Errorf("externalTrafficPolicy = %q, want empty", s.ExternalTrafficPolicy)
			}
		},
	}, {
		name: "ClusterIP with externalIPs gets externalTrafficPolicy",
		spec: corev1.ServiceSpec{ExternalIPs: []string{"192.0.2.10"}},
		check: func(t *testing.T, s corev1.ServiceSpec) {
			if s.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyCluster {
				t.Errorf("externalTrafficPolicy = %q", s.ExternalTrafficPolicy)
			}
		},
	}, {
		name: "ClientIP affinity gets a timeout",
		spec: corev1.ServiceSpec{SessionAffinity: corev1.ServiceAffinityClientIP},
		check: func(t *testing.T, s corev1.ServiceSpec) {
			if c := s.SessionAffinityConfig; c == nil || c.ClientIP == nil || *c.ClientIP.TimeoutSeconds != 10800 {
				t.Errorf("sessionAffinityConfig = %+v", c)
			}
		},
	}, {
		name: "ClientIP timeout kept",
		spec: corev1.ServiceSpec{SessionAffinity: corev1.ServiceAffinityClientIP, SessionAffinityConfig: &corev1.SessionAffinityConfig{
			ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptrTo(int32(60))}}},
		check: func(t *testing.T, s corev1.ServiceSpec) {
			if *s.SessionAffinityConfig.ClientIP.TimeoutSeconds != 60 {
				t.Errorf("timeout overwritten")
			}
		},
	}, {
		name: "ExternalName has no IP fields",
		spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "example.com"},
		check: func(t *testing.T, s corev1.ServiceSpec) {
			if s.IPFamilyPolicy != nil || s.IPFamilies != nil || s.InternalTrafficPolicy != nil || s.ClusterIPs != nil {
				t.Errorf("ExternalName got IP fields: %+v", s)
			}
		},
	}, {
		name: "clusterIP fills clusterIPs and family",
		spec: corev1.ServiceSpec{ClusterIP: "fd00::10"},
		check: func(t *testing.T, s corev1.ServiceSpec) {
			assertEqual(t, s.ClusterIPs, []string{"fd00::10"})
			assertEqual(t, s.IPFamilies, []corev1.IPFamily{corev1.IPv6Protocol})
		},
	}, {
		name: "clusterIPs fills clusterIP",
		spec: corev1.ServiceSpec{ClusterIPs: []string{"10.96.0.10"}},
		check: func(t *testing.T, s corev1.ServiceSpec) {
			if s.ClusterIP != "10.96.0.10" {
				t.Errorf("clusterIP = %q", s.ClusterIP)
			}
		},
	}, {
		name: "headless without selector requires dual stack",
		spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone},
		check: func(t *testing.T, s corev1.ServiceSpec) {
			if *s.IPFamilyPolicy != corev1.IPFamilyPolicyRequireDualStack {
				t.Errorf("ipFamilyPolicy = %s", *s.IPFamilyPolicy)
			}
			assertEqual(t, s.ClusterIPs, []string{"None"})
			assertEqual(t, s.IPFamilies, []corev1.IPFamily{corev1.IPv4Protocol})
		},
	}, {
		name: "headless with selector is single stack",
		spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{"a": "b"}},
		check: func(t *testing.T, s corev1.ServiceSpec) {
			if *s.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack {
				t.Errorf("ipFamilyPolicy = %s", *s.IPFamilyPolicy)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &corev1.Service{Spec: tt.spec}
			Service(s)
			tt.check(t, s.Spec)
		})
	}
}
