//go:build linux && e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

const modeSwitchService = `apiVersion: v1
kind: Service
metadata: {name: lonely}
spec:
  selector: {app: nobody}
  ports: [{port: 80, targetPort: 8080}]
`

// TestProxyModeSwitchAndCleanup runs `nodeagent proxy` in iptables mode,
// then with --proxy-mode auto, which must take ipvs where the kernel has
// IPVS (in `make vm-test`) and otherwise nftables, saying why, and remove
// the iptables chains, then `nodeagent proxy --cleanup`, which must remove
// everything auto's mode made: the nftables table, or the virtual
// servers, the NODEAGENT-IPVS-* chains and ipsets.
func TestProxyModeSwitchAndCleanup(t *testing.T) {
	requireAPIServerDeps(t)
	framework.RequireBinaries(t, "iptables-save", "nft")
	auto := "nftables"
	if hasIPVS() {
		framework.RequireBinaries(t, "ipvsadm", "ipset")
		auto = "ipvs"
	}
	node := framework.NewLab(t)
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	l := &agentLab{node: node, srv: srv, k: &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}}
	l.k.ok(modeSwitchService, "apply", "-f", "-")
	vip := l.jsonpath("svc/lonely", "{.spec.clusterIP}")
	if vip == "" {
		t.Fatal("the Service got no cluster IP")
	}
	args := []string{"proxy", "--kubeconfig", srv.Kubeconfig(), "--node-name", "lab-node"}

	p := framework.StartProcess(t, node, "proxy-iptables", append(args, "--proxy-mode", "iptables")...)
	l.waitRules(t, "iptables", vip, true)
	p.Kill9()

	p = framework.StartProcess(t, node, "proxy-auto", append(args, "--proxy-mode", "auto")...)
	l.waitRules(t, auto, vip, true)
	if rules := l.proxyRules(t, "iptables"); strings.Contains(rules, "KUBE-") {
		t.Fatalf("%s mode left iptables mode's chains:\n%s", auto, rules)
	}
	if log := p.Log(); !strings.Contains(log, "mode="+auto) || (auto == "nftables") != strings.Contains(log, "IPVS is not available") {
		t.Fatalf("--proxy-mode auto should take %s and say why:\n%s", auto, log)
	}
	if auto == "ipvs" {
		if sets := l.ipsets(t); !strings.Contains(sets, "NODEAGENT-IPVS-LOCAL-NODE-PORT") {
			t.Fatalf("ipvs mode made no NODEAGENT-IPVS-* ipsets:\n%s", sets)
		}
	}
	p.Kill9()

	cleanup := exec.Command(framework.Binary(t), "proxy", "--cleanup")
	var out strings.Builder
	cleanup.Stdout, cleanup.Stderr = &out, &out
	if err := node.Run(cleanup); err != nil {
		t.Fatalf("proxy --cleanup: %v\n%s", err, out.String())
	}
	if rules := l.proxyRules(t, "nftables"); rules != "" {
		t.Fatalf("proxy --cleanup left:\n%s", rules)
	}
	if rules := l.proxyRules(t, "iptables"); strings.Contains(rules, "KUBE-") || strings.Contains(rules, "NODEAGENT-") {
		t.Fatalf("proxy --cleanup left:\n%s", rules)
	}
	if auto == "ipvs" {
		if rules := l.proxyRules(t, "ipvs"); virtualServer.MatchString(rules) {
			t.Fatalf("proxy --cleanup left virtual servers:\n%s", rules)
		}
		if sets := l.ipsets(t); strings.Contains(sets, "NODEAGENT-") {
			t.Fatalf("proxy --cleanup left ipsets:\n%s", sets)
		}
	}
}

// virtualServer matches a virtual server's line in `ipvsadm -Ln`.
var virtualServer = regexp.MustCompile(`(?m)^(TCP|UDP|SCTP) `)

// hasIPVS says whether this kernel has IPVS (after trying to load it).
func hasIPVS() bool {
	exec.Command("modprobe", "-q", "ip_vs").Run()
	_, err := os.Stat("/proc/net/ip_vs")
	return err == nil
}

// ipsets lists the lab node's ipsets by name.
func (l *agentLab) ipsets(t *testing.T) string {
	t.Helper()
	out, err := l.runIn("", "ipset", "list", "-n")
	if err != nil {
		t.Fatalf("ipset list: %v: %s", err, out)
	}
	return out
}

// waitRules waits until the mode's rules in the lab do (or do not) name ip.
func (l *agentLab) waitRules(t *testing.T, mode, ip string, want bool) {
	t.Helper()
	framework.Eventually(t, 20*time.Second, 100*time.Millisecond, mode+" rules for "+ip, func() error {
		if got := strings.Contains(l.proxyRules(t, mode), ip); got != want {
			return fmt.Errorf("rules name %s: %v", ip, got)
		}
		return nil
	})
}
