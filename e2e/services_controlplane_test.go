//go:build linux && e2e

package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

const controlPlaneYAML = `apiVersion: v1
kind: Service
metadata: {name: cp-web}
spec:
  type: NodePort
  selector: {app: cp-web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: cp-web-1, labels: {app: cp-web}}
spec:
  nodeName: cp-node
  containers: [{name: c, image: 127.0.0.1:5000/nodeagent/testserver:v1, ports: [{name: http, containerPort: 8080}]}]
`

// The bundled control plane gives a NodePort Service its cluster IP and
// node port, keeps its EndpointSlice in step with its pod, refuses a
// duplicate with kube's message also after a restart, and releases
// everything on delete; kubectl prints it all as it prints kube's.
func TestServicesControlPlane(t *testing.T) {
	requireAPIServerDeps(t)
	node := framework.NewLab(t)
	srv := framework.StartAPIServer(t, node, "--disable-agent", "--service-node-port-range", "30000-30099")
	k := &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}
	k.ok(controlPlaneYAML, "apply", "-f", "-")
	ip := k.ok("", "get", "svc", "cp-web", "-o", "jsonpath={.spec.clusterIP}")
	port := k.ok("", "get", "svc", "cp-web", "-o", "jsonpath={.spec.ports[0].nodePort}")
	if n, err := strconv.Atoi(port); err != nil || n < 30000 || n > 30099 || !strings.HasPrefix(ip, "10.") {
		t.Fatalf("allocated %q, node port %q", ip, port)
	}
	lines := strings.Split(strings.TrimSpace(k.ok("", "get", "svc")), "\n")
	if squash(lines[0]) != "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE" ||
		!strings.HasPrefix(squash(lines[1]), fmt.Sprintf("cp-web NodePort %s <none> 80:%s/TCP ", ip, port)) ||
		!strings.HasPrefix(squash(lines[2]), "kubernetes ClusterIP 10.96.0.1 <none> 443/TCP ") {
		t.Fatalf("get svc:\n%s", strings.Join(lines, "\n"))
	}

	k.ok("", "patch", "pod", "cp-web-1", "--subresource=status", "--type=merge", "-p",
		`{"status":{"phase":"Running","podIP":"10.244.0.5","podIPs":[{"ip":"10.244.0.5"}],"conditions":[{"type":"Ready","status":"True"}]}}`)
	framework.Eventually(t, 10*time.Second, 50*time.Millisecond, "the slice shows the pod", func() error {
		out := k.ok("", "get", "endpointslices", "-l", "kubernetes.io/service-name=cp-web")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 || squash(lines[0]) != "NAME ADDRESSTYPE PORTS ENDPOINTS AGE" ||
			!strings.HasPrefix(squash(lines[1]), "cp-web-") || !strings.Contains(squash(lines[1]), " IPv4 8080 10.244.0.5 ") {
			return fmt.Errorf("get endpointslices:\n%s", out)
		}
		return nil
	})

	dupIP := fmt.Sprintf(`The Service "cp-dup" is invalid: spec.clusterIPs: Invalid value: ["%s"]: failed to allocate IP %s: provided IP is already allocated`, ip, ip)
	dupPort := fmt.Sprintf(`The Service "cp-dup" is invalid: spec.ports[0].nodePort: Invalid value: %s: provided port is already allocated`, port)
	refused := func() {
		t.Helper()
		if got := k.fails(cpService("cp-dup", "ClusterIP", "[{port: 80}]", "clusterIP: "+ip), "apply", "-f", "-"); got != dupIP {
			t.Errorf("duplicate IP:\n got %s\nwant %s", got, dupIP)
		}
		if got := k.fails(cpService("cp-dup", "NodePort", "[{port: 80, nodePort: "+port+"}]", ""), "apply", "-f", "-"); got != dupPort {
			t.Errorf("duplicate node port:\n got %s\nwant %s", got, dupPort)
		}
	}
	refused()
	srv.Stop()
	srv.Start()
	refused()

	k.ok("", "delete", "svc", "cp-web")
	framework.Eventually(t, 10*time.Second, 50*time.Millisecond, "the slice goes", func() error {
		if out := k.ok("", "get", "endpointslices", "-l", "kubernetes.io/service-name=cp-web", "-o", "name"); out != "" {
			return fmt.Errorf("left: %s", out)
		}
		return nil
	})
	k.ok(cpService("cp-reuse", "ClusterIP", "[{port: 80}]", "clusterIP: "+ip), "apply", "-f", "-")
	k.ok(cpService("cp-reuse-port", "NodePort", "[{port: 80, nodePort: "+port+"}]", ""), "apply", "-f", "-")
}

// cpService is a service manifest; extra is one more spec line.
func cpService(name, typ, ports, extra string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: %s}\nspec:\n  type: %s\n  selector: {app: %s}\n  ports: %s\n  %s\n",
		name, typ, name, ports, extra)
}
