package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/nodeagent/nodeagent/certs"
)

func TestKubeconfigNodeWritesAServingCertificate(t *testing.T) {
	env, _ := testEnv()
	data, out := t.TempDir(), filepath.Join(t.TempDir(), "pki")
	if _, err := certs.LoadOrCreateCA(filepath.Join(data, "pki"), "nodeagent-ca"); err != nil {
		t.Fatal(err)
	}
	args := []string{"node", "n1", "--data-dir", data, "--out", filepath.Join(t.TempDir(), "kc"), "--serving-cert-out", out}
	if err := runKubeconfig(context.Background(), env, args); err == nil || !strings.Contains(err.Error(), "--node-ip") {
		t.Fatalf("--serving-cert-out without --node-ip: %v", err)
	}
	if err := runKubeconfig(context.Background(), env, append(args, "--node-ip", "10.1.2.3,fd00::3")); err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{"kubelet.crt": 0o644, "kubelet.key": 0o600} {
		if st, err := os.Stat(filepath.Join(out, name)); err != nil || st.Mode() != mode {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestAgentClientCA(t *testing.T) {
	dir := t.TempDir()
	file, kcFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "kc-ca.pem")
	os.WriteFile(file, []byte("from the flag"), 0o600)
	os.WriteFile(kcFile, []byte("from the kubeconfig's file"), 0o600)
	cases := []struct {
		flag string
		cfg  rest.TLSClientConfig
		want string
	}{
		{file, rest.TLSClientConfig{CAData: []byte("inline")}, "from the flag"},
		{"", rest.TLSClientConfig{CAData: []byte("inline")}, "inline"},
		{"", rest.TLSClientConfig{CAFile: kcFile}, "from the kubeconfig's file"},
		{"", rest.TLSClientConfig{}, ""},
	}
	for _, c := range cases {
		got, err := clientCA(c.flag, &rest.Config{TLSClientConfig: c.cfg})
		if err != nil || string(got) != c.want {
			t.Errorf("flag %q, %+v: %q %v, want %q", c.flag, c.cfg, got, err, c.want)
		}
	}
	if _, err := clientCA(filepath.Join(dir, "missing"), &rest.Config{}); err == nil {
		t.Error("a missing --client-ca-file is not an error")
	}
}
