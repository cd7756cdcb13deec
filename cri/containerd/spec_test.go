package containerd

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/nodeagent/nodeagent/cri"
)

func TestKubeArgs(t *testing.T) {
	ep, cmd := []string{"/entry"}, []string{"serve"}
	for _, tc := range []struct {
		name          string
		command, args []string
		want          []string
	}{
		{"image defaults", nil, nil, []string{"/entry", "serve"}},
		{"args replace CMD", nil, []string{"pause"}, []string{"/entry", "pause"}},
		{"command replaces both", []string{"sh", "-c", "exit 3"}, nil, []string{"sh", "-c", "exit 3"}},
		{"command and args", []string{"sh"}, []string{"-c", "true"}, []string{"sh", "-c", "true"}},
	} {
		if got := kubeArgs(ep, cmd, tc.command, tc.args); !slices.Equal(got, tc.want) {
			t.Errorf("%s: kubeArgs = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := kubeArgs(nil, nil, nil, nil); len(got) != 0 {
		t.Errorf("kubeArgs of nothing = %q", got)
	}
}

func TestCapabilities(t *testing.T) {
	base := []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"}
	known := []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"}
	for _, tc := range []struct {
		name      string
		add, drop []string
		want      []string
	}{
		{"unchanged", nil, nil, base},
		{"add without prefix", []string{"net_admin"}, nil, []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_NET_ADMIN"}},
		{"drop with prefix", nil, []string{"CAP_NET_RAW"}, []string{"CAP_CHOWN", "CAP_KILL"}},
		{"drop ALL then add", []string{"NET_BIND_SERVICE"}, []string{"ALL"}, []string{"CAP_NET_BIND_SERVICE"}},
		{"add ALL minus one", []string{"ALL"}, []string{"SYS_ADMIN"}, []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_NET_ADMIN"}},
		{"add twice", []string{"KILL", "cap_kill"}, nil, base},
	} {
		if got := capabilities(base, known, tc.add, tc.drop); !slices.Equal(got, tc.want) {
			t.Errorf("%s: capabilities = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestStopSignal(t *testing.T) {
	for _, tc := range []struct{ cfg, image, want string }{
		{"", "", "SIGTERM"},
		{"", "SIGQUIT", "SIGQUIT"},
		{"SIGINT", "SIGQUIT", "SIGINT"},
	} {
		if got, err := stopSignal(tc.cfg, tc.image); err != nil || got != tc.want {
			t.Errorf("stopSignal(%q, %q) = %q, %v; want %q", tc.cfg, tc.image, got, err, tc.want)
		}
	}
	if _, err := stopSignal("SIGNOPE", ""); err == nil {
		t.Errorf("stopSignal(SIGNOPE) succeeded")
	}
}

// The stdio a container keeps round-trips through its label; a TTY
// container gets TERM=xterm unless its config sets TERM.
func TestStdioLabelAndTTYEnv(t *testing.T) {
	for _, cfg := range []cri.ContainerConfig{
		{}, {Stdin: true}, {Stdin: true, StdinOnce: true}, {TTY: true}, {Stdin: true, StdinOnce: true, TTY: true},
	} {
		got, ok := stdioConfig(map[string]string{labelStdio: stdioLabel(cfg), labelLogPath: "/l"})
		if ok != (cfg.Stdin || cfg.TTY) || got.Stdin != cfg.Stdin || got.StdinOnce != cfg.StdinOnce || got.TTY != cfg.TTY ||
			(ok && got.LogPath != "/l") {
			t.Errorf("%+v: label %q gives %+v, %v", cfg, stdioLabel(cfg), got, ok)
		}
	}
	if env := containerEnv(cri.ContainerConfig{TTY: true, Env: []string{"TERM=dumb"}}); strings.Join(env, " ") != "TERM=xterm TERM=dumb" {
		t.Errorf("env %q: the config's TERM must come last, to win", env)
	}
	if env := containerEnv(cri.ContainerConfig{Env: []string{"A=1"}}); strings.Join(env, " ") != "A=1" {
		t.Errorf("env without a TTY: %q", env)
	}
}

func TestOOMScoreAdjInTheSpec(t *testing.T) {
	apply := func(opts []oci.SpecOpts) *oci.Spec {
		s := &oci.Spec{Process: &specs.Process{}, Linux: &specs.Linux{}}
		for _, o := range opts {
			if err := o(context.Background(), nil, nil, s); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	adj := 1000
	if s := apply(resourceOpts(cri.Resources{OOMScoreAdj: &adj}, noOOMFloor)); s.Process.OOMScoreAdj == nil || *s.Process.OOMScoreAdj != 1000 {
		t.Errorf("container oom_score_adj %v, want 1000", s.Process.OOMScoreAdj)
	}
	if s := apply(resourceOpts(cri.Resources{}, noOOMFloor)); s.Process.OOMScoreAdj != nil {
		t.Errorf("oom_score_adj %d set without being asked", *s.Process.OOMScoreAdj)
	}
	r := &Runtime{cfg: DefaultConfig(), oomFloor: noOOMFloor}
	s := apply(r.sandboxSpec("id", "/rootfs", cri.SandboxConfig{CgroupParent: "/nodeagent/n1/kubepods/podu"})[2:]) // past the rootfs options
	if s.Process.OOMScoreAdj == nil || *s.Process.OOMScoreAdj != -998 {
		t.Errorf("sandbox oom_score_adj %v, want -998", s.Process.OOMScoreAdj)
	}
	if s.Linux.CgroupsPath != "/nodeagent/n1/kubepods/podu/id" {
		t.Errorf("sandbox cgroup %q", s.Linux.CgroupsPath)
	}
}

// Without CAP_SYS_RESOURCE a score below the inherited one would fail the
// container's start: it is not set, the others are.
func TestOOMScoreAdjFloor(t *testing.T) {
	apply := func(opts []oci.SpecOpts) *oci.Spec {
		s := &oci.Spec{Process: &specs.Process{}, Linux: &specs.Linux{}}
		for _, o := range opts {
			if err := o(context.Background(), nil, nil, s); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	for _, tc := range []struct {
		adj  int
		want *int
	}{{-997, nil}, {0, nil}, {1, ptrInt(1)}, {1000, ptrInt(1000)}} {
		s := apply(resourceOpts(cri.Resources{OOMScoreAdj: &tc.adj}, 1))
		if (s.Process.OOMScoreAdj == nil) != (tc.want == nil) || tc.want != nil && *s.Process.OOMScoreAdj != *tc.want {
			t.Errorf("adj %d with floor 1: %v, want %v", tc.adj, s.Process.OOMScoreAdj, tc.want)
		}
	}
	r := &Runtime{cfg: DefaultConfig(), oomFloor: 1}
	if s := apply(r.sandboxSpec("id", "/rootfs", cri.SandboxConfig{})[2:]); s.Process.OOMScoreAdj != nil {
		t.Errorf("sandbox oom_score_adj %d below the floor", *s.Process.OOMScoreAdj)
	}
}

func TestHasCap(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/status", []byte("Name:\tx\nCapEff:\t000001fffeffffff\n"), 0o600)
	os.WriteFile(dir+"/oom_score_adj", []byte("0\n"), 0o600)
	if hasCap(dir, capSysResource) || !hasCap(dir, 21) {
		t.Error("CapEff 000001fffeffffff: want CAP_SYS_ADMIN (21) and not CAP_SYS_RESOURCE (24)")
	}
	if f := oomScoreFloor(dir); f != 1 {
		t.Errorf("floor %d, want 1 (own 0, plus the shim's one)", f)
	}
	os.WriteFile(dir+"/status", []byte("CapEff:\t000001ffffffffff\n"), 0o600)
	if f := oomScoreFloor(dir); f != noOOMFloor {
		t.Errorf("floor %d with every capability", f)
	}
}

func ptrInt(v int) *int { return &v }
