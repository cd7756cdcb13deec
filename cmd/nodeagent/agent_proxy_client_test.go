package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
)

// The embedded proxy runs with --proxy-kubeconfig's identity when it is
// given (kube-apiserver's Node authorizer refuses the node's credentials
// the EndpointSlices the proxy lists), and with the node's otherwise.
func TestProxyClient(t *testing.T) {
	node := fake.NewClientset()
	if c, err := proxyClient("", node); err != nil || c != node {
		t.Fatalf("no --proxy-kubeconfig: got %v, %v; want the node's client", c, err)
	}
	path := filepath.Join(t.TempDir(), "proxy.kubeconfig")
	kc := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://192.0.2.1:6443"}}]
users: [{name: kube-proxy, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: kube-proxy}}]
current-context: c
`
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := proxyClient(path, node)
	if err != nil {
		t.Fatal(err)
	}
	cs, ok := c.(*kubernetes.Clientset)
	if !ok || cs.CoreV1().RESTClient().Get().URL().Host != "192.0.2.1:6443" {
		t.Fatalf("got %T %v, want a client for the proxy's kubeconfig", c, c)
	}
	_, err = proxyClient(filepath.Join(t.TempDir(), "missing"), node)
	if err == nil || !strings.HasPrefix(err.Error(), "--proxy-kubeconfig: ") {
		t.Fatalf("missing file: %v, want an error naming --proxy-kubeconfig", err)
	}
}
