package agent

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestResolvConf(t *testing.T) {
	node := "nameserver 192.0.2.53\nsearch corp.example\noptions edns0\n"
	two := "2"
	cases := []struct {
		name string
		spec corev1.PodSpec
		want string
	}{
		{"ClusterFirst", corev1.PodSpec{DNSPolicy: corev1.DNSClusterFirst},
			"search web.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"},
		{"ClusterFirst on host network falls back to the node", corev1.PodSpec{DNSPolicy: corev1.DNSClusterFirst, HostNetwork: true},
			"search corp.example\nnameserver 192.0.2.53\noptions edns0\n"},
		{"Default", corev1.PodSpec{DNSPolicy: corev1.DNSDefault},
			"search corp.example\nnameserver 192.0.2.53\noptions edns0\n"},
		{"None with dnsConfig", corev1.PodSpec{DNSPolicy: corev1.DNSNone, DNSConfig: &corev1.PodDNSConfig{
			Nameservers: []string{"1.2.3.4"}, Searches: []string{"a.example"}, Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: &two}}}},
			"search a.example\nnameserver 1.2.3.4\noptions ndots:2\n"},
	}
	for _, c := range cases {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "web"}, Spec: c.spec}
		if got := resolvConf(pod, "10.96.0.10", "cluster.local", node); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

func TestHostsFile(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-0", Namespace: "ns"},
		Spec: corev1.PodSpec{HostAliases: []corev1.HostAlias{{IP: "10.1.2.3", Hostnames: []string{"foo", "bar"}}}}}
	want := "# Kubernetes-managed hosts file (nodeagent).\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.244.0.5\tweb-0\n10.1.2.3\tfoo\tbar\n"
	if got := hostsFile(pod, []string{"10.244.0.5"}); got != want {
		t.Errorf("hosts:\n%s\nwant:\n%s", got, want)
	}
}
