package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestParseJoinArgs(t *testing.T) {
	o, err := parseJoinArgs([]string{"https://192.0.2.1:6443", "--token", "abcdef.0123456789abcdef", "--node-name", "n2",
		"--discovery-token-ca-cert-hash=sha256:00", "--credentials-dir", "/tmp/x", "--pod-cidr="})
	if err != nil {
		t.Fatal(err)
	}
	if o.server != "https://192.0.2.1:6443" || o.token != "abcdef.0123456789abcdef" || o.caHash != "sha256:00" || o.dir != "/tmp/x" ||
		!slices.Equal(o.agent, []string{"--node-name", "n2", "--pod-cidr="}) {
		t.Errorf("parsed %+v", o)
	}
	for args, want := range map[string]string{
		"":                         "usage: nodeagent join",
		"--token x":                "usage: nodeagent join",
		"https://s:6443 --token x": `--token "x": want a join token`,
		"https://s:6443 --token":   "--token needs a value",
		"https://s:6443 --token abcdef.0123456789abcdef": "--discovery-token-ca-cert-hash is required",
	} {
		if _, err := parseJoinArgs(strings.Fields(args)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", args, err, want)
		}
	}
}

func TestRandomTokenIsAJoinToken(t *testing.T) {
	re := regexp.MustCompile(`^[a-z0-9]{6}\.[a-z0-9]{16}$`)
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		tok, err := randomToken()
		if err != nil || !re.MatchString(tok) || seen[tok] {
			t.Fatalf("token %q %v (seen before: %v)", tok, err, seen[tok])
		}
		seen[tok] = true
	}
}

// parseJoin runs `nodeagent join ARGS` up to the agent's flag parsing,
// with defaultPath as the default config file.
func parseJoin(t *testing.T, defaultPath string, args ...string) (*agentOptions, error) {
	t.Helper()
	env := &environment{stdout: os.Stdout, stderr: os.Stderr}
	rest, taken, err := takeFlags(args, "config")
	if err != nil {
		t.Fatal(err)
	}
	if env.config, err = joinConfig(taken, defaultPath); err != nil {
		return nil, err
	}
	o, err := parseJoinArgs(rest)
	if err != nil {
		t.Fatal(err)
	}
	ao, _, err := parseAgentFlags(env, o.agentArgs(env.config))
	return ao, err
}

var testJoinArgs = []string{"https://192.0.2.1:6443", "--token", "abcdef.0123456789abcdef",
	"--discovery-token-ca-cert-hash", "sha256:00", "--credentials-dir", "/tmp/creds"}

const joinAgentConfig = `apiVersion: nodeagent.io/v1alpha1
kind: NodeAgentConfiguration
agent:
  proxy-mode: nftables
  kubeconfig: /etc/nodeagent/node.kubeconfig
  proxy-kubeconfig: /etc/nodeagent/other-proxy.kubeconfig
  bootstrap-kubeconfig: /etc/nodeagent/other-bootstrap.kubeconfig
  max-pods: 50
server:
  proxy-mode: ipvs
`

func TestJoinAppliesTheConfigFilesAgentSection(t *testing.T) {
	p := writeConfig(t, 0o644, joinAgentConfig)
	for name, args := range map[string][]string{
		"given":   append([]string{"--config", p}, testJoinArgs...),
		"default": testJoinArgs,
	} {
		t.Run(name, func(t *testing.T) {
			o, err := parseJoin(t, p, args...)
			if err != nil {
				t.Fatal(err)
			}
			if o.proxy.mode != "nftables" || o.cfg.MaxPods != 50 {
				t.Errorf("proxy-mode %q max-pods %d: want the file's agent section, nftables and 50", o.proxy.mode, o.cfg.MaxPods)
			}
			if o.kubeconfig != "/tmp/creds/node.kubeconfig" || o.proxyKubeconfig != "/tmp/creds/kube-proxy.kubeconfig" ||
				o.certs.bootstrapKubeconfig != "/tmp/creds/bootstrap.kubeconfig" {
				t.Errorf("kubeconfig %q proxy-kubeconfig %q bootstrap-kubeconfig %q: want join's credentials over the file's",
					o.kubeconfig, o.proxyKubeconfig, o.certs.bootstrapKubeconfig)
			}
			if !o.certs.rotateServer {
				t.Errorf("--rotate-server-certificates not set")
			}
		})
	}
}

func TestJoinCommandLineWinsOverTheConfigFile(t *testing.T) {
	p := writeConfig(t, 0o600, joinAgentConfig)
	o, err := parseJoin(t, "", append([]string{"--config=" + p}, append(slices.Clone(testJoinArgs), "--proxy-mode", "iptables")...)...)
	if err != nil {
		t.Fatal(err)
	}
	if o.proxy.mode != "iptables" {
		t.Errorf("proxy-mode %q, want the command line's iptables", o.proxy.mode)
	}
}

func TestJoinConfigFileServingCertificate(t *testing.T) {
	p := writeConfig(t, 0o600, "apiVersion: nodeagent.io/v1alpha1\nkind: NodeAgentConfiguration\nagent:\n  tls-cert-file: /etc/nodeagent/kubelet.crt\n  tls-private-key-file: /etc/nodeagent/kubelet.key\n")
	o, err := parseJoin(t, "", append([]string{"--config", p}, testJoinArgs...)...)
	if err != nil {
		t.Fatal(err)
	}
	if o.certs.rotateServer || o.cfg.TLSCertFile != "/etc/nodeagent/kubelet.crt" {
		t.Errorf("rotate-server-certificates %v tls-cert-file %q: want the file's certificate alone", o.certs.rotateServer, o.cfg.TLSCertFile)
	}
	if err := o.certs.validate(o.cfg.TLSCertFile); err != nil {
		t.Error(err)
	}
}

func TestJoinConfigFileRefusals(t *testing.T) {
	header := "apiVersion: nodeagent.io/v1alpha1\nkind: NodeAgentConfiguration\n"
	missing := filepath.Join(t.TempDir(), "none.yaml")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"key", []string{"--config", writeConfig(t, 0o600, header+"agent:\n  proxy-mod: nftables\n")}, "agent.proxy-mod: nodeagent agent has no flag --proxy-mod"},
		{"value", []string{"--config", writeConfig(t, 0o600, header+"agent:\n  max-pods: many\n")}, `agent.max-pods: invalid value "many"`},
		{"join section", []string{"--config", writeConfig(t, 0o600, header+"join:\n  token: abcdef.0123456789abcdef\n")}, `unknown field "join"`},
		{"writable", []string{"--config", writeConfig(t, 0o666, header)}, "lets group or others write it"},
		{"missing", []string{"--config", missing}, "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseJoin(t, "", append(c.args, testJoinArgs...)...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestJoinWithoutTheDefaultConfigFile(t *testing.T) {
	o, err := parseJoin(t, filepath.Join(t.TempDir(), "config.yaml"), testJoinArgs...)
	if err != nil {
		t.Fatal(err)
	}
	if o.proxy.mode != defaultAgentOptions().proxy.mode || o.kubeconfig != "/tmp/creds/node.kubeconfig" {
		t.Errorf("proxy-mode %q kubeconfig %q: want the defaults and join's", o.proxy.mode, o.kubeconfig)
	}
}

func TestJoinTakesConfigOffItsArguments(t *testing.T) {
	p := writeConfig(t, 0o600, joinAgentConfig)
	env := &environment{stdout: os.Stdout, stderr: os.Stderr}
	rest, err := env.setupConfig("join", append([]string{"--config", p}, testJoinArgs...))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rest, testJoinArgs) || env.config == nil || env.config.command != "agent" || env.config.flags["proxy-mode"] != "nftables" {
		t.Errorf("arguments %q config %+v: want join's arguments and the file's agent section", rest, env.config)
	}
}
