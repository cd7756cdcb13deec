package validation

import (
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/api/defaults"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func meta(name, namespace string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace}
}

func TestObjectMeta(t *testing.T) {
	tests := []struct {
		name       string
		meta       metav1.ObjectMeta
		namespaced bool
		nameFn     NameFunc
		want       []string
	}{
		{"valid", metav1.ObjectMeta{Name: "a.b", Namespace: "ns", Labels: map[string]string{"example.com/app": "web"},
			Annotations: map[string]string{"note": "anything goes here"}}, true, apimachineryvalidation.NameIsDNSSubdomain, nil},
		{"no name", metav1.ObjectMeta{Namespace: "ns"}, true, apimachineryvalidation.NameIsDNSSubdomain, []string{"metadata.name: Required value"}},
		{"generateName", metav1.ObjectMeta{GenerateName: "web-", Name: "web-x7k2p", Namespace: "ns"}, true, apimachineryvalidation.NameIsDNSLabel, nil},
		{"bad generateName", metav1.ObjectMeta{GenerateName: "Web-", Name: "web-x7k2p", Namespace: "ns"}, true, apimachineryvalidation.NameIsDNSLabel,
			[]string{"metadata.generateName: Invalid value"}},
		{"label-only name", metav1.ObjectMeta{Name: "a.b", Namespace: "ns"}, true, apimachineryvalidation.NameIsDNSLabel, []string{"metadata.name: Invalid value"}},
		{"namespace required", metav1.ObjectMeta{Name: "a"}, true, apimachineryvalidation.NameIsDNSSubdomain, []string{"metadata.namespace: Required value"}},
		{"namespace forbidden", metav1.ObjectMeta{Name: "a", Namespace: "ns"}, false, apimachineryvalidation.NameIsDNSSubdomain, []string{"metadata.namespace: Forbidden"}},
		{"labels", metav1.ObjectMeta{Name: "a", Labels: map[string]string{"a b": "c", "ok": "-"}}, false, apimachineryvalidation.NameIsDNSSubdomain,
			[]string{"metadata.labels: Invalid value", "metadata.labels: Invalid value"}},
		{"annotation key", metav1.ObjectMeta{Name: "a", Annotations: map[string]string{"a b": "c"}}, false, apimachineryvalidation.NameIsDNSSubdomain,
			[]string{"metadata.annotations: Invalid value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertErrors(t, ObjectMeta(&tt.meta, tt.namespaced, tt.nameFn), tt.want)
		})
	}
}

func TestConfigMapAndSecret(t *testing.T) {
	big := strings.Repeat("x", MaxDataSize)
	tests := []struct {
		name     string
		validate func() field.ErrorList
		want     []string
	}{
		{"config map", func() field.ErrorList {
			return ConfigMap(&corev1.ConfigMap{ObjectMeta: meta("cfg", "ns"), Data: map[string]string{"app.yaml": "a: 1", ".env": "X=1"},
				BinaryData: map[string][]byte{"logo.png": {0x89}}})
		}, nil},
		{"config map keys", func() field.ErrorList {
			return ConfigMap(&corev1.ConfigMap{ObjectMeta: meta("cfg", "ns"), Data: map[string]string{"bad key": "", "..": "", "both": ""},
				BinaryData: map[string][]byte{"both": nil, "a/b": nil}})
		}, []string{"data[bad key]: Invalid value", "data[..]: Invalid value", "data[both]: Invalid value", "binaryData[a/b]: Invalid value"}},
		{"config map too big", func() field.ErrorList {
			return ConfigMap(&corev1.ConfigMap{ObjectMeta: meta("cfg", "ns"), Data: map[string]string{"a": big, "b": "y"}})
		}, []string{"data: Too long"}},
		{"secret", func() field.ErrorList {
			s := &corev1.Secret{ObjectMeta: meta("s", "ns"), StringData: map[string]string{"password": "x"}}
			defaults.Secret(s)
			return Secret(s)
		}, nil},
		{"secret too big", func() field.ErrorList {
			return Secret(&corev1.Secret{ObjectMeta: meta("s", "ns"), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"a": []byte(big), "b": {1}}})
		}, []string{"data: Too long"}},
		{"dockerconfigjson", func() field.ErrorList {
			return Secret(&corev1.Secret{ObjectMeta: meta("s", "ns"), Type: corev1.SecretTypeDockerConfigJson,
				Data: map[string][]byte{".dockerconfigjson": []byte(`{"auths":{}}`)}})
		}, nil},
		{"dockerconfigjson missing", func() field.ErrorList {
			return Secret(&corev1.Secret{ObjectMeta: meta("s", "ns"), Type: corev1.SecretTypeDockerConfigJson})
		}, []string{"data[.dockerconfigjson]: Required value"}},
		{"dockerconfigjson not JSON", func() field.ErrorList {
			return Secret(&corev1.Secret{ObjectMeta: meta("s", "ns"), Type: corev1.SecretTypeDockerConfigJson,
				Data: map[string][]byte{".dockerconfigjson": []byte(`{auths`)}})
		}, []string{"data[.dockerconfigjson]: Invalid value"}},
		{"tls", func() field.ErrorList {
			return Secret(&corev1.Secret{ObjectMeta: meta("s", "ns"), Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": nil}})
		}, []string{"data[tls.key]: Required value"}},
		{"basic auth", func() field.ErrorList {
			return Secret(&corev1.Secret{ObjectMeta: meta("s", "ns"), Type: corev1.SecretTypeBasicAuth})
		}, []string{"data[username]: Required value", "data[password]: Required value"}},
		{"service account token", func() field.ErrorList {
			return Secret(&corev1.Secret{ObjectMeta: meta("s", "ns"), Type: corev1.SecretTypeServiceAccountToken})
		}, []string{"metadata.annotations[kubernetes.io/service-account.name]: Required value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertErrors(t, tt.validate(), tt.want)
		})
	}
}

func TestConfigMapAndSecretUpdate(t *testing.T) {
	cm := func(immutable *bool, v string) *corev1.ConfigMap {
		m := meta("cfg", "ns")
		m.ResourceVersion = "1"
		return &corev1.ConfigMap{ObjectMeta: m, Immutable: immutable, Data: map[string]string{"k": v}}
	}
	sec := func(typ corev1.SecretType, immutable *bool, v string) *corev1.Secret {
		m := meta("s", "ns")
		m.ResourceVersion = "1"
		return &corev1.Secret{ObjectMeta: m, Type: typ, Immutable: immutable, Data: map[string][]byte{"k": []byte(v)}}
	}
	tests := []struct {
		name     string
		validate func() field.ErrorList
		want     []string
	}{
		{"mutable config map", func() field.ErrorList { return ConfigMapUpdate(cm(nil, "b"), cm(nil, "a")) }, nil},
		{"make immutable", func() field.ErrorList { return ConfigMapUpdate(cm(ptrTo(true), "a"), cm(nil, "a")) }, nil},
		{"immutable config map data", func() field.ErrorList { return ConfigMapUpdate(cm(ptrTo(true), "b"), cm(ptrTo(true), "a")) },
			[]string{"data: Forbidden"}},
		{"immutable config map unset", func() field.ErrorList { return ConfigMapUpdate(cm(ptrTo(false), "a"), cm(ptrTo(true), "a")) },
			[]string{"immutable: Forbidden"}},
		{"secret type", func() field.ErrorList {
			return SecretUpdate(sec(corev1.SecretTypeOpaque, nil, "a"), sec("example.com/custom", nil, "a"))
		}, []string{"type: Invalid value"}},
		{"immutable secret", func() field.ErrorList {
			return SecretUpdate(sec(corev1.SecretTypeOpaque, ptrTo(true), "b"), sec(corev1.SecretTypeOpaque, ptrTo(true), "a"))
		}, []string{"data: Forbidden"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertErrors(t, tt.validate(), tt.want)
		})
	}
}

func TestClusterObjects(t *testing.T) {
	q := resource.MustParse
	tests := []struct {
		name     string
		validate func() field.ErrorList
		want     []string
	}{
		{"namespace", func() field.ErrorList {
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}}
			defaults.NamespaceCreate(ns)
			return Namespace(ns)
		}, nil},
		{"namespace name is a label", func() field.ErrorList {
			return Namespace(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team.a"}})
		}, []string{"metadata.name: Invalid value"}},
		{"namespace finalizer", func() field.ErrorList {
			return Namespace(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"},
				Spec: corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"example.com/cleanup", "cleanup"}}})
		}, []string{"spec.finalizers: Invalid value"}},
		{"node", func() field.ErrorList {
			n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1.example.com"},
				Spec: corev1.NodeSpec{PodCIDR: "10.244.1.0/24", PodCIDRs: []string{"10.244.1.0/24", "fd00:1::/64"},
					Taints: []corev1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}}},
				Status: corev1.NodeStatus{Capacity: corev1.ResourceList{"cpu": q("4"), "memory": q("8Gi"), "pods": q("110")}}}
			defaults.Node(n)
			return Node(n)
		}, nil},
		{"node taints", func() field.ErrorList {
			return Node(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Spec: corev1.NodeSpec{Taints: []corev1.Taint{
				{Key: "k", Effect: corev1.TaintEffectNoSchedule}, {Key: "k", Effect: corev1.TaintEffectNoSchedule}, {Key: "k"}, {Key: "a b", Value: "-", Effect: "Never"}}}})
		}, []string{"metadata.taints[1]: Duplicate value", "metadata.taints[2].effect: Required value", "metadata.taints[3].key: Invalid value",
			"metadata.taints[3].value: Invalid value", "metadata.taints[3].effect: Unsupported value"}},
		{"node podCIDRs", func() field.ErrorList {
			return Node(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Spec: corev1.NodeSpec{PodCIDRs: []string{"10.244.1.0/24", "10.244.2.0/24"}}})
		}, []string{"spec.podCIDRs: Invalid value"}},
		{"node capacity", func() field.ErrorList {
			return Node(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Status: corev1.NodeStatus{Capacity: corev1.ResourceList{"cpu": q("-1")}}})
		}, []string{"status.capacity.cpu: Invalid value"}},
		{"service account", func() field.ErrorList {
			return ServiceAccount(&corev1.ServiceAccount{ObjectMeta: meta("builder", "ns")})
		}, nil},
		{"service account name", func() field.ErrorList {
			return ServiceAccount(&corev1.ServiceAccount{ObjectMeta: meta("Builder", "ns")})
		},
			[]string{"metadata.name: Invalid value"}},
		{"lease", func() field.ErrorList {
			return Lease(&coordinationv1.Lease{ObjectMeta: meta("node-1", "kube-node-lease"),
				Spec: coordinationv1.LeaseSpec{HolderIdentity: ptrTo("node-1"), LeaseDurationSeconds: ptrTo(int32(40))}})
		}, nil},
		{"lease numbers", func() field.ErrorList {
			return Lease(&coordinationv1.Lease{ObjectMeta: meta("node-1", "kube-node-lease"),
				Spec: coordinationv1.LeaseSpec{LeaseDurationSeconds: ptrTo(int32(0)), LeaseTransitions: ptrTo(int32(-1)), PreferredHolder: ptrTo("x")}})
		}, []string{"spec.leaseDurationSeconds: Invalid value", "spec.leaseTransitions: Invalid value", "spec.preferredHolder: Forbidden"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertErrors(t, tt.validate(), tt.want)
		})
	}
}

func TestEvent(t *testing.T) {
	podRef := corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "web"}
	tests := []struct {
		name  string
		event corev1.Event
		want  []string
	}{
		{"kubelet event", corev1.Event{ObjectMeta: meta("web.17f", "ns"), InvolvedObject: podRef, Reason: "Started", Type: "Normal"}, nil},
		{"node event in default", corev1.Event{ObjectMeta: meta("n.17f", "default"), InvolvedObject: corev1.ObjectReference{Kind: "Node", Name: "n"}}, nil},
		{"namespace mismatch", corev1.Event{ObjectMeta: meta("web.17f", "other"), InvolvedObject: podRef},
			[]string{"involvedObject.namespace: Invalid value"}},
		{"series event", corev1.Event{ObjectMeta: meta("web.17f", "ns"), InvolvedObject: podRef, EventTime: metav1.NewMicroTime(time.Unix(1, 0)),
			ReportingController: "example.com/agent", ReportingInstance: "node-1", Action: "Pulling", Reason: "Pulling"}, nil},
		{"series event missing fields", corev1.Event{ObjectMeta: meta("web.17f", "ns"), InvolvedObject: podRef, EventTime: metav1.NewMicroTime(time.Unix(1, 0)),
			Message: strings.Repeat("m", 1025)},
			[]string{"reportingComponent: Required value", "reportingInstance: Required value",
				"action: Required value", "reason: Required value", "message: Invalid value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertErrors(t, Event(&tt.event), tt.want)
		})
	}
}

func TestPersistentVolumes(t *testing.T) {
	q := resource.MustParse
	pv := func(mutate func(*corev1.PersistentVolume)) *corev1.PersistentVolume {
		p := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv-1"}, Spec: corev1.PersistentVolumeSpec{
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Capacity:               corev1.ResourceList{"storage": q("1Gi")},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/srv/pv-1"}},
		}}
		mutate(p)
		defaults.PersistentVolume(p)
		return p
	}
	pvc := func(mutate func(*corev1.PersistentVolumeClaim)) *corev1.PersistentVolumeClaim {
		c := &corev1.PersistentVolumeClaim{ObjectMeta: meta("data", "ns"), Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{"storage": q("1Gi")}},
		}}
		mutate(c)
		defaults.PersistentVolumeClaim(c)
		return c
	}
	tests := []struct {
		name     string
		validate func() field.ErrorList
		want     []string
	}{
		{"pv", func() field.ErrorList { return PersistentVolume(pv(func(*corev1.PersistentVolume) {})) }, nil},
		{"pv modes and capacity", func() field.ErrorList {
			return PersistentVolume(pv(func(p *corev1.PersistentVolume) {
				p.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{"ReadWriteSometimes"}
				p.Spec.Capacity = corev1.ResourceList{"storage": q("0")}
			}))
		}, []string{"spec.accessModes: Unsupported value", "spec.capacity[storage]: Invalid value"}},
		{"pv without source", func() field.ErrorList {
			return PersistentVolume(pv(func(p *corev1.PersistentVolume) { p.Spec.HostPath = nil }))
		}, []string{"spec: Required value"}},
		{"pv local needs affinity", func() field.ErrorList {
			return PersistentVolume(pv(func(p *corev1.PersistentVolume) {
				p.Spec.HostPath, p.Spec.Local = nil, &corev1.LocalVolumeSource{Path: "/mnt/disk"}
			}))
		}, []string{"spec.nodeAffinity: Required value"}},
		{"pvc", func() field.ErrorList { return PersistentVolumeClaim(pvc(func(*corev1.PersistentVolumeClaim) {})) }, nil},
		{"pvc without storage", func() field.ErrorList {
			return PersistentVolumeClaim(pvc(func(c *corev1.PersistentVolumeClaim) {
				c.Spec.Resources.Requests = nil
				c.Spec.AccessModes = nil
			}))
		}, []string{"spec.resources[storage]: Required value", "spec.accessModes: Required value"}},
		{"pvc RWOP with others", func() field.ErrorList {
			return PersistentVolumeClaim(pvc(func(c *corev1.PersistentVolumeClaim) {
				c.Spec.AccessModes = append(c.Spec.AccessModes, corev1.ReadWriteOncePod)
				c.Spec.VolumeMode = ptrTo(corev1.PersistentVolumeMode("Raw"))
			}))
		}, []string{"spec.accessModes: Forbidden", "spec.volumeMode: Unsupported value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertErrors(t, tt.validate(), tt.want)
		})
	}
}

func TestEndpointSlice(t *testing.T) {
	slice := func(addrType discoveryv1.AddressType, addrs ...string) *discoveryv1.EndpointSlice {
		es := &discoveryv1.EndpointSlice{ObjectMeta: meta("web-abc12", "ns"), AddressType: addrType,
			Endpoints: []discoveryv1.Endpoint{{Addresses: addrs, NodeName: ptrTo("node-1")}},
			Ports:     []discoveryv1.EndpointPort{{Name: ptrTo("http"), Port: ptrTo(int32(80))}}}
		defaults.EndpointSlice(es)
		return es
	}
	many := &discoveryv1.EndpointSlice{ObjectMeta: meta("big", "ns"), AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: make([]discoveryv1.Endpoint, 1001)}
	for i := range many.Endpoints {
		many.Endpoints[i].Addresses = []string{"10.0.0.1"}
	}
	tests := []struct {
		name string
		es   *discoveryv1.EndpointSlice
		want []string
	}{
		{"ipv4", slice(discoveryv1.AddressTypeIPv4, "10.244.0.5"), nil},
		{"fqdn", slice(discoveryv1.AddressTypeFQDN, "db.example.com"), nil},
		{"address type", slice("IPv5", "10.244.0.5"), []string{"addressType: Unsupported value"}},
		{"no address type", slice("", "10.244.0.5"), []string{"addressType: Required value"}},
		{"no addresses", slice(discoveryv1.AddressTypeIPv4), []string{"endpoints[0].addresses: Required value"}},
		{"wrong family", slice(discoveryv1.AddressTypeIPv4, "fd00::5"), []string{"endpoints[0].addresses[0]: Invalid value"}},
		{"loopback", slice(discoveryv1.AddressTypeIPv4, "127.0.0.1"), []string{"endpoints[0].addresses[0]: Invalid value"}},
		{"too many endpoints", many, []string{"endpoints: Too many"}},
		{"ports", func() *discoveryv1.EndpointSlice {
			es := slice(discoveryv1.AddressTypeIPv4, "10.244.0.5")
			es.Ports = append(es.Ports, discoveryv1.EndpointPort{Name: ptrTo("http"), Protocol: ptrTo(corev1.Protocol("ICMP")), Port: ptrTo(int32(0))},
				discoveryv1.EndpointPort{Name: ptrTo("Bad_Name"), Protocol: ptrTo(corev1.ProtocolTCP)})
			return es
		}(), []string{"ports[1].name: Duplicate value", "ports[1].protocol: Unsupported value", "ports[1].port: Invalid value", "ports[2].name: Invalid value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertErrors(t, EndpointSlice(tt.es), tt.want)
		})
	}
}
