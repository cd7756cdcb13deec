package main

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nodeagent/nodeagent/apiserver"
)

// writeConfig writes a config file of this mode and returns its path.
func writeConfig(t *testing.T, mode os.FileMode, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// parseServer runs `nodeagent server ARGS` up to its flag parsing.
func parseServer(t *testing.T, args ...string) (apiserver.Config, *agentOptions, error) {
	t.Helper()
	env := &environment{stdout: os.Stdout, stderr: os.Stderr}
	rest, err := env.setupConfig("server", args)
	if err != nil {
		return apiserver.Config{}, nil, err
	}
	if rest, err = env.setupLogging(rest); err != nil {
		return apiserver.Config{}, nil, err
	}
	cfg := apiserver.DefaultConfig()
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	serverFlags(fs, &cfg)
	ao := defaultAgentOptions()
	agentFlags(fs, ao)
	fs.Bool("disable-agent", false, "")
	return cfg, ao, env.parseFlags(fs, rest)
}

const goodConfig = `apiVersion: nodeagent.io/v1alpha1
kind: NodeAgentConfiguration
server:
  data-dir: /var/lib/test-server
  secure-port: 7443
  tls-san: [lab.example, 192.0.2.10]
  disable-proxy: true
  log-level: warn
agent:
  node-name: ignored-by-server
`

func TestConfigFileSetsFlagsAndTheCommandLineWins(t *testing.T) {
	p := writeConfig(t, 0o600, goodConfig)
	cfg, ao, err := parseServer(t, "--config", p, "--secure-port=8443")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "/var/lib/test-server" {
		t.Errorf("data-dir %q, want the file's", cfg.DataDir)
	}
	if cfg.Port != 8443 {
		t.Errorf("secure-port %d, want the command line's 8443", cfg.Port)
	}
	if !slices.Equal(cfg.ExtraSANs, []string{"lab.example", "192.0.2.10"}) {
		t.Errorf("tls-san %q", cfg.ExtraSANs)
	}
	if !ao.proxy.disabled {
		t.Errorf("disable-proxy: true not applied")
	}
	if ao.cfg.NodeName == "ignored-by-server" {
		t.Errorf("the agent section was applied to the server")
	}
}

func TestConfigFileLogLevelYieldsToTheCommandLine(t *testing.T) {
	p := writeConfig(t, 0o600, goodConfig)
	env := &environment{stdout: os.Stdout, stderr: os.Stderr}
	rest, err := env.setupConfig("server", []string{"--log-level=debug", "--config=" + p})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.setupLogging(rest); err != nil {
		t.Fatal(err)
	}
	if got := env.logLevel.Level().String(); got != "DEBUG" {
		t.Errorf("level %s, want the command line's DEBUG over the file's warn", got)
	}
}

func TestConfigFileRefusals(t *testing.T) {
	header := "apiVersion: nodeagent.io/v1alpha1\nkind: NodeAgentConfiguration\n"
	cases := []struct {
		name string
		mode os.FileMode
		text string
		want string
	}{
		{"version", 0o600, "apiVersion: nodeagent.io/v2\nkind: NodeAgentConfiguration\n", `apiVersion: Unsupported value: "nodeagent.io/v2"`},
		{"kind", 0o600, "apiVersion: nodeagent.io/v1alpha1\nkind: KubeletConfiguration\n", `kind: Unsupported value: "KubeletConfiguration"`},
		{"section", 0o600, header + "kubelet:\n  port: 1\n", `unknown field "kubelet"`},
		{"flag", 0o600, header + "server:\n  no-such-flag: 1\n", "server.no-such-flag: nodeagent server has no flag --no-such-flag"},
		{"cleanup", 0o600, header + "server:\n  cleanup: true\n", "server.cleanup: not allowed in a config file"},
		{"value", 0o600, header + "server:\n  secure-port: many\n", `server.secure-port: invalid value "many"`},
		{"map", 0o600, header + "server:\n  data-dir: {a: b}\n", "server.data-dir: must be a string, number, boolean or a list of them"},
		{"duplicate", 0o600, header + "server:\n  data-dir: /a\n  data-dir: /b\n", "already set in map"},
		{"writable", 0o620, header, "lets group or others write it"},
		{"log-level", 0o600, header + "server:\n  log-level: loud\n", "--log-level"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := parseServer(t, "--config", writeConfig(t, c.mode, c.text))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestConfigFileOnlyForDaemons(t *testing.T) {
	p := writeConfig(t, 0o600, goodConfig)
	env := &environment{stdout: os.Stdout, stderr: os.Stderr}
	if _, err := env.setupConfig("lab", []string{"--config", p}); err == nil || !strings.Contains(err.Error(), "nodeagent lab takes no config file") {
		t.Fatalf("lab --config: %v", err)
	}
	if _, err := env.setupConfig("agent", []string{"--config", p, "--config", p}); err == nil || !strings.Contains(err.Error(), "given 2 times") {
		t.Fatalf("two --config: %v", err)
	}
	if _, err := env.setupConfig("agent", []string{"--config", filepath.Join(t.TempDir(), "none.yaml")}); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Fatalf("missing file: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

func TestExampleConfigParses(t *testing.T) {
	p := filepath.Join("..", "..", "examples", "systemd", "config.yaml")
	for _, cmd := range configCommands {
		if _, err := loadCommandConfig(p, cmd); err != nil {
			t.Errorf("%s: %v", cmd, err)
		}
	}
	if _, _, err := parseServer(t, "--config", p); err != nil {
		t.Errorf("server flags of the example: %v", err)
	}
}
