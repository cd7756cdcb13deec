//go:build linux && e2e

package e2e

import (
	"fmt"
	"os/exec"
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
// then with --proxy-mode auto, which on this kernel (no IPVS) must take
// nftables, say so, and remove the iptables chains, then `nodeagent proxy
// --cleanup`, which must remove the nftables table.
func TestProxyModeSwitchAndCleanup(t *testing.T) {
	requireAPIServerDeps(t)
	framework.RequireBinaries(t, "iptables-save", "nft")
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

	// auto: this kernel has no IPVS, so nftables, and it says why.
	p = framework.StartProcess(t, node, "proxy-auto", append(args, "--proxy-mode", "auto")...)
	l.waitRules(t, "nftables", vip, true)
	if rules := l.proxyRules(t, "iptables"); strings.Contains(rules, "KUBE-") {
		t.Fatalf("nftables mode left iptables mode's chains:\n%s", rules)
	}
	if log := p.Log(); !strings.Contains(log, "IPVS is not available") || !strings.Contains(log, "mode=nftables") {
		t.Fatalf("--proxy-mode auto should say it fell back from IPVS to nftables:\n%s", log)
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
