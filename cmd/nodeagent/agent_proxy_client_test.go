package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/nodeagent/nodeagent/certs"
	"github.com/nodeagent/nodeagent/internal/syncbuf"
)

// The embedded proxy runs with --proxy-kubeconfig's identity when it is
// given (kube-apiserver's Node authorizer refuses the node's credentials
// the EndpointSlices the proxy lists), and with the node's otherwise.
func TestProxyClient(t *testing.T) {
	node := fake.NewClientset()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	o := defaultAgentOptions()
	if c, err := proxyClient(ctx, log, o, node); err != nil || c != node {
		t.Fatalf("no --proxy-kubeconfig: got %v, %v; want the node's client", c, err)
	}
	o.proxyKubeconfig = filepath.Join(t.TempDir(), "proxy.kubeconfig")
	kc := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://192.0.2.1:6443"}}]
users: [{name: kube-proxy, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: kube-proxy}}]
current-context: c
`
	if err := os.WriteFile(o.proxyKubeconfig, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := proxyClient(ctx, log, o, node)
	if err != nil {
		t.Fatal(err)
	}
	cs, ok := c.(*kubernetes.Clientset)
	if !ok || cs.CoreV1().RESTClient().Get().URL().Host != "192.0.2.1:6443" {
		t.Fatalf("got %T %v, want a client for the proxy's kubeconfig", c, c)
	}
	o.proxyKubeconfig = filepath.Join(t.TempDir(), "missing")
	_, err = proxyClient(ctx, log, o, node)
	if err == nil || !strings.HasPrefix(err.Error(), "--proxy-kubeconfig: ") {
		t.Fatalf("missing file: %v, want an error naming --proxy-kubeconfig", err)
	}
}

// A system:kube-proxy certificate in --proxy-kubeconfig (what nodeagent
// join writes) is renewed like the node's, in the cert dir under its own
// name; another identity's is left alone, and so is any with
// --rotate-certificates=false.
func TestProxyCertificateRotation(t *testing.T) {
	dir := t.TempDir()
	ca, err := certs.LoadOrCreateCA(dir, "test-ca")
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := func(file, user string, groups ...string) string {
		kp, err := ca.ClientCert(dir, file, user, groups)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, file+".kubeconfig")
		if err := certs.WriteKubeconfig(path, certs.Kubeconfig("https://192.0.2.1:6443", user, ca.CertPEM, kp, "")); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, tc := range []struct {
		name, kubeconfig string
		rotate, want     bool
	}{
		{"kube-proxy", kubeconfig("proxy", "system:kube-proxy"), true, true},
		{"kube-proxy without rotation", kubeconfig("proxy", "system:kube-proxy"), false, false},
		{"kube-proxy in a group", kubeconfig("proxy-master", "system:kube-proxy", "system:masters"), true, false},
		{"another user", kubeconfig("alice", "alice"), true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncbuf.Buffer
			o := defaultAgentOptions()
			o.cfg.RootDir, o.cfg.NodeName, o.proxyKubeconfig, o.certs.rotate = t.TempDir(), "n1", tc.kubeconfig, tc.rotate
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if _, err := proxyClient(ctx, slog.New(slog.NewTextHandler(&logs, nil)), o, fake.NewClientset()); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for tc.want && !strings.Contains(logs.String(), "system:kube-proxy client certificate rotation scheduled") && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if got := strings.Contains(logs.String(), "rotation scheduled"); got != tc.want {
				t.Errorf("rotation scheduled: %v, want %v; log:\n%s", got, tc.want, logs.String())
			}
		})
	}
}
