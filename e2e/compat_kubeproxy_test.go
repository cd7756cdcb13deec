//go:build e2e && compat

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// compatServiceYAML is a Service with a fixed cluster IP and the
// EndpointSlice an EndpointSlice controller would have made for it (the
// server runs without an agent, so there are no pods).
const compatServiceYAML = `apiVersion: v1
kind: Node
metadata:
  name: compat-node
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  clusterIP: 10.96.0.50
  ports:
  - name: http
    port: 80
    targetPort: 8080
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-manual
  labels:
    kubernetes.io/service-name: web
addressType: IPv4
endpoints:
- addresses: ["10.244.0.5"]
  conditions:
    ready: true
ports:
- name: http
  port: 8080
  protocol: TCP
`

// A real kube-proxy (NODEAGENT_KUBE_PROXY, built by `make compat` from
// k8s.io/kubernetes) runs against the bundled server as system:kube-proxy,
// in nftables mode in a lab node: it finds the ServiceCIDRs it waits for,
// lists what RBAC's system:node-proxier grants, and programs a Service's
// cluster IP to its endpoint and the service CIDR's drop rule, then removes
// the Service's rules with it.
func TestCompatRealKubeProxy(t *testing.T) {
	bin := os.Getenv("NODEAGENT_KUBE_PROXY")
	if bin == "" {
		t.Fatal("NODEAGENT_KUBE_PROXY names no kube-proxy binary; run `make compat`")
	}
	requireAPIServerDeps(t)
	framework.RequireBinaries(t, "nft")
	node := framework.NewLab(t)
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	k := &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}
	k.ok(compatServiceYAML, "apply", "-f", "-")
	// kube-proxy waits up to 30 s for its Node's addresses.
	k.ok("", "patch", "node", "compat-node", "--subresource=status", "--type=merge",
		"-p", `{"status":{"addresses":[{"type":"InternalIP","address":"192.0.2.10"}]}}`)
	framework.StartProcessOf(t, node, bin, "kube-proxy", "--kubeconfig", impersonatingKubeconfig(t, srv.Kubeconfig(), "system:kube-proxy"),
		"--proxy-mode", "nftables", "--hostname-override", "compat-node", "--cluster-cidr", "10.244.0.0/16",
		// Conntrack sysctls are the host's, not the lab node's: leave them.
		"--conntrack-max-per-core", "0", "--conntrack-tcp-timeout-established", "0", "--conntrack-tcp-timeout-close-wait", "0",
		"--healthz-bind-address", "127.0.0.1:10256", "--metrics-bind-address", "127.0.0.1:10249", "--v", "2")
	framework.Eventually(t, 90*time.Second, 500*time.Millisecond, "kube-proxy programs the service", func() error {
		rules, ok := nftTable(t, node, "kube-proxy")
		if !ok || !strings.Contains(rules, "10.96.0.50 . tcp . 80") || !strings.Contains(rules, "10.244.0.5") {
			return fmt.Errorf("table ip kube-proxy has no rule for 10.96.0.50:80 -> 10.244.0.5:8080 yet:\n%s", rules)
		}
		// From the "kubernetes" ServiceCIDR: traffic to unallocated
		// cluster IPs is dropped.
		if !strings.Contains(rules, "10.96.0.0/12") {
			return fmt.Errorf("table ip kube-proxy does not name the service CIDR 10.96.0.0/12:\n%s", rules)
		}
		return nil
	})
	// kube-proxy reports its start on the Node through events.k8s.io/v1;
	// kubectl reads it as a core/v1 Event.
	framework.Eventually(t, 30*time.Second, 500*time.Millisecond, "kube-proxy's Starting event", func() error {
		out, _, err := k.run("", "get", "events", "--field-selector", "involvedObject.name=compat-node,reason=Starting",
			"-o", "jsonpath={range .items[*]}{.reportingComponent}{' '}{.message}{end}")
		if err != nil || !strings.Contains(out, "kube-proxy") {
			return fmt.Errorf("events %q %v", out, err)
		}
		return nil
	})
	k.ok("", "delete", "service", "web")
	framework.Eventually(t, 60*time.Second, 500*time.Millisecond, "kube-proxy removes the service", func() error {
		if rules, _ := nftTable(t, node, "kube-proxy"); strings.Contains(rules, "10.96.0.50") {
			return fmt.Errorf("10.96.0.50 still in table ip kube-proxy:\n%s", rules)
		}
		return nil
	})
}

// impersonatingKubeconfig writes a copy of kubeconfig whose user acts as
// user (kubectl --as), and returns its path.
func impersonatingKubeconfig(t *testing.T, kubeconfig, user string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range cfg.AuthInfos {
		a.Impersonate = user
	}
	path := filepath.Join(t.TempDir(), "as-"+user+".kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}
