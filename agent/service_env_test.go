package agent

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

func svc(ns, name, ip string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ServiceSpec{ClusterIP: ip, Ports: ports}}
}

func TestServiceEnvVarsAsKubelet(t *testing.T) {
	got := serviceEnvVars([]*corev1.Service{svc("ns", "my-svc", "10.96.0.7",
		corev1.ServicePort{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP},
		corev1.ServicePort{Name: "dns-udp", Port: 53, Protocol: corev1.ProtocolUDP})})
	want := map[string]string{
		"MY_SVC_SERVICE_HOST":         "10.96.0.7",
		"MY_SVC_SERVICE_PORT":         "80",
		"MY_SVC_SERVICE_PORT_HTTP":    "80",
		"MY_SVC_SERVICE_PORT_DNS_UDP": "53",
		"MY_SVC_PORT":                 "tcp://10.96.0.7:80",
		"MY_SVC_PORT_80_TCP":          "tcp://10.96.0.7:80",
		"MY_SVC_PORT_80_TCP_PROTO":    "tcp",
		"MY_SVC_PORT_80_TCP_PORT":     "80",
		"MY_SVC_PORT_80_TCP_ADDR":     "10.96.0.7",
		"MY_SVC_PORT_53_UDP":          "udp://10.96.0.7:53",
		"MY_SVC_PORT_53_UDP_PROTO":    "udp",
		"MY_SVC_PORT_53_UDP_PORT":     "53",
		"MY_SVC_PORT_53_UDP_ADDR":     "10.96.0.7",
	}
	if !maps.Equal(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

func TestVisibleServices(t *testing.T) {
	port := corev1.ServicePort{Port: 443}
	all := []*corev1.Service{
		svc("default", "kubernetes", "10.96.0.1", port),
		svc("ns", "web", "10.96.0.5", port),
		svc("ns", "headless", "None", port),
		svc("other", "db", "10.96.0.6", port),
		svc("ns", "pending", "", port),
	}
	names := func(l []*corev1.Service) []string {
		var out []string
		for _, s := range l {
			out = append(out, s.Namespace+"/"+s.Name)
		}
		return out
	}
	if got := names(visibleServices(all, "ns", true)); !slices.Equal(got, []string{"default/kubernetes", "ns/web"}) {
		t.Errorf("links: %v", got)
	}
	if got := names(visibleServices(all, "ns", false)); !slices.Equal(got, []string{"default/kubernetes"}) {
		t.Errorf("no links: %v (the kubernetes Service is always there)", got)
	}
	own := append(all, svc("ns", "kubernetes", "10.96.0.9", port))
	if got := names(visibleServices(own, "ns", true)); !slices.Contains(got, "ns/kubernetes") || slices.Contains(got, "default/kubernetes") {
		t.Errorf("the namespace's own kubernetes Service: %v", got)
	}
}

// envAgent is an agent with only a synced Service cache of these Services.
func envAgent(t *testing.T, synced bool, svcs ...*corev1.Service) *Agent {
	t.Helper()
	var objs []runtime.Object
	for _, s := range svcs {
		objs = append(objs, s)
	}
	client := fake.NewSimpleClientset(objs...)
	a := &Agent{client: client, services: newServiceCache(client)}
	if synced {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		a.services.factory.Start(ctx.Done())
		if !cache.WaitForCacheSync(ctx.Done(), a.services.informer.HasSynced) {
			t.Fatal("services not synced")
		}
	}
	return a
}

func TestContainerEnvWithServicesAndExpansion(t *testing.T) {
	a := envAgent(t, true, svc("default", "kubernetes", "10.96.0.1", corev1.ServicePort{Name: "https", Port: 443}),
		svc("ns", "web", "10.96.0.5", corev1.ServicePort{Port: 80}))
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}}
	spec := corev1.Container{Name: "c", Env: []corev1.EnvVar{
		{Name: "URL", Value: "http://$(WEB_SERVICE_HOST):$(WEB_SERVICE_PORT)/"},
		{Name: "NEXT", Value: "$(URL)x $(UNKNOWN) $$(URL)"},
		{Name: "WEB_SERVICE_PORT", Value: "8080"}, // the container's own wins
	}, Args: []string{"--api=$(KUBERNETES_SERVICE_HOST)", "--next=$(NEXT)", "$$(NEXT)"}}
	env, err := a.resolveEnv(context.Background(), pod, spec)
	if err != nil {
		t.Fatal(err)
	}
	m := envMap(env)
	checks := map[string]string{
		"URL":                     "http://10.96.0.5:80/",
		"NEXT":                    "http://10.96.0.5:80/x $(UNKNOWN) $(URL)",
		"WEB_SERVICE_PORT":        "8080",
		"WEB_SERVICE_HOST":        "10.96.0.5",
		"KUBERNETES_SERVICE_HOST": "10.96.0.1",
		"KUBERNETES_SERVICE_PORT": "443",
	}
	for k, v := range checks {
		if m[k] != v {
			t.Errorf("%s=%q, want %q", k, m[k], v)
		}
	}
	if len(env) != len(m) {
		t.Errorf("a variable twice: %v", env)
	}
	_, args := expandCommand(spec, env)
	if want := []string{"--api=10.96.0.1", "--next=http://10.96.0.5:80/x $(UNKNOWN) $(URL)", "$(NEXT)"}; !slices.Equal(args, want) {
		t.Errorf("args %q, want %q", args, want)
	}
	pod.Spec.EnableServiceLinks = ptr.To(false)
	env, _ = a.resolveEnv(context.Background(), pod, corev1.Container{Name: "c"})
	if m := envMap(env); m["WEB_SERVICE_HOST"] != "" || m["KUBERNETES_SERVICE_HOST"] != "10.96.0.1" {
		t.Errorf("enableServiceLinks false: %v", env)
	}
}

func TestAPIPodsWaitForTheServices(t *testing.T) {
	a := envAgent(t, false)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}}
	if _, err := a.resolveEnv(context.Background(), pod, corev1.Container{Name: "c"}); !errors.Is(err, errServicesNotSynced) {
		t.Fatalf("before the Services were listed: %v", err)
	}
	pod.Annotations = map[string]string{annotationConfigSource: "file"}
	if _, err := a.resolveEnv(context.Background(), pod, corev1.Container{Name: "c"}); err != nil {
		t.Fatalf("a static pod (runs without the API): %v", err)
	}
}
