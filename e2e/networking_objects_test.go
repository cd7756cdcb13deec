//go:build e2e

package e2e

import (
	"strings"
	"testing"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// networkingYAML is what charts commonly carry beside their Deployments:
// an IngressClass, an Ingress, a NetworkPolicy and a PodDisruptionBudget.
const networkingYAML = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: lab
spec:
  controller: example.com/ingress-controller
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  ingressClassName: lab
  rules:
  - host: web.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              number: 80
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db
spec:
  podSelector:
    matchLabels:
      app: db
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: web
    ports:
    - port: 5432
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app: web
`

// kubectl applies networking.k8s.io/v1 and policy/v1 objects, prints them
// with kube's columns, and gets kube's field errors for bad ones; the
// default ServiceCIDR is there for kube-proxy.
func TestNetworkingObjectsWithKubectl(t *testing.T) {
	requireAPIServerDeps(t)
	node := framework.NewLab(t)
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	k := &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}
	k.ok(networkingYAML, "apply", "--server-side", "-f", "-")
	k.ok(networkingYAML, "apply", "--server-side", "-f", "-")
	want := map[string]string{
		"ingress":      "NAME CLASS HOSTS ADDRESS PORTS AGE|web lab web.example.com 80",
		"ingressclass": "NAME CONTROLLER PARAMETERS AGE|lab example.com/ingress-controller <none>",
		"netpol":       "NAME POD-SELECTOR AGE|db app=db",
		"pdb":          "NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE|web 1 N/A 0",
		"servicecidr":  "NAME CIDRS AGE|kubernetes 10.96.0.0/12",
	}
	for kind, w := range want {
		lines := strings.Split(strings.TrimSpace(k.ok("", "get", kind)), "\n")
		header, row, _ := strings.Cut(w, "|")
		if len(lines) != 2 || squash(lines[0]) != header || !strings.HasPrefix(squash(lines[1]), row+" ") {
			t.Errorf("kubectl get %s:\n%s\nwant %q then %q...", kind, strings.Join(lines, "\n"), header, row)
		}
	}
	if got := k.ok("", "get", "netpol", "db", "-o", "jsonpath={.spec.policyTypes} {.spec.ingress[0].ports[0].protocol}"); got != `["Ingress"] TCP` {
		t.Errorf("NetworkPolicy defaults: %q", got)
	}
	bad := strings.Replace(networkingYAML[strings.Index(networkingYAML, "kind: Ingress\n")-len("apiVersion: networking.k8s.io/v1\n"):strings.Index(networkingYAML, "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy")],
		"pathType: Prefix", "pathType: Regex", 1)
	bad = strings.Replace(bad, "name: web", "name: regex", 1)
	if got := k.fails(bad, "apply", "-f", "-"); !strings.Contains(got, `spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex"`) {
		t.Errorf("an Ingress with an unknown path type: %s", got)
	}
	k.ok(networkingYAML, "delete", "-f", "-")
	if got := k.ok("", "get", "ingress,netpol,pdb", "-o", "name"); got != "" {
		t.Errorf("left after delete: %q", got)
	}
}
