//go:build linux && e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// endpointsYAML: a backend pod behind a Service with a selector, and a
// client pod.
const endpointsYAML = `apiVersion: v1
kind: Pod
metadata: {name: backend, labels: {app: ep-backend}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    args: [serve, --http, ":8080"]
    ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: client, image: 127.0.0.1:5000/nodeagent/testserver:v1, args: [pause]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: ep-backend}
  ports: [{name: http, port: 80, targetPort: http}]
`

// externalYAML: a Service without a selector and the Endpoints a user
// writes for it (an "external" database), pointing at podIP.
const externalYAML = `apiVersion: v1
kind: Service
metadata: {name: external}
spec:
  ports: [{name: db, port: 5432}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: external}
subsets:
- addresses: [{ip: %s}]
  ports: [{name: db, port: 8080}]
`

// TestEndpointsWithKubectl: a Service with a selector gets v1 Endpoints
// with its pod's address (kubectl get endpoints), and a Service without a
// selector plus hand-written Endpoints is reached through its ClusterIP
// from a pod: the Endpoints are mirrored into an EndpointSlice the proxy
// routes by.
func TestEndpointsWithKubectl(t *testing.T) {
	l := startAgentLab(t)
	l.k.ok(endpointsYAML, "apply", "-f", "-")
	for _, p := range []string{"backend", "client"} {
		l.waitFor(t, 90*time.Second, "pod/"+p, "{.status.phase}", "Running")
	}
	podIP := l.jsonpath("pod/backend", "{.status.podIP}")
	framework.Eventually(t, 60*time.Second, 200*time.Millisecond, "kubectl get endpoints web", func() error {
		out, errOut, err := l.k.run("", "get", "endpoints", "web", "--no-headers")
		if f := strings.Fields(out); err != nil || len(f) != 3 || f[0] != "web" || f[1] != podIP+":8080" {
			return fmt.Errorf("%q %q %v", out, errOut, err)
		}
		return nil
	})
	if got := l.jsonpath("ep/web", "{.subsets[0].addresses[0].targetRef.name}"); got != "backend" {
		t.Errorf("targetRef %q, want backend", got)
	}
	if got := l.jsonpath("ep/web", "{.metadata.labels.endpointslice\\.kubernetes\\.io/skip-mirror}"); got != "true" {
		t.Errorf("skip-mirror label %q, want true", got)
	}

	l.k.ok(fmt.Sprintf(externalYAML, podIP), "apply", "-f", "-")
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "the mirrored EndpointSlice", func() error {
		out, _, err := l.k.run("", "get", "endpointslices", "-l",
			"kubernetes.io/service-name=external,endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io",
			"-o", "jsonpath={.items[*].endpoints[*].addresses[0]}")
		if err != nil || out != podIP {
			return fmt.Errorf("%q %v", out, err)
		}
		return nil
	})
	clusterIP := l.jsonpath("svc/external", "{.spec.clusterIP}")
	url := "http://" + clusterIP + ":5432/hostname"
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "client gets "+url, func() error {
		out, errOut, err := l.k.run("", "exec", "client", "--", "testserver", "get", url)
		if err != nil || !strings.Contains(out, "backend") {
			return fmt.Errorf("%q %q %v", out, errOut, err)
		}
		return nil
	})

	// The Service goes: its hand-written Endpoints stay (they are the
	// user's), the mirrored slice goes.
	l.k.ok("", "delete", "svc", "external")
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "the mirrored slice deleted", func() error {
		out, _, err := l.k.run("", "get", "endpointslices", "-l", "kubernetes.io/service-name=external", "-o", "name")
		if err != nil || out != "" {
			return fmt.Errorf("%q %v", out, err)
		}
		return nil
	})
	l.k.ok("", "get", "endpoints", "external")
}
