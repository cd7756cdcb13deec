//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// A LoadBalancer Service with externalTrafficPolicy Local gets a health
// check node port from the server, and the node's proxy answers on it as
// kube-proxy does: 200 with the node's endpoint count while it has one,
// 503 with 0 once it has none, nothing once the Service is gone.
func TestHealthCheckNodePort(t *testing.T) {
	l := startAgentLab(t)
	l.k.ok(strings.ReplaceAll(backendYAML, "NAME", "lb-0")+`---
apiVersion: v1
kind: Service
metadata: {name: lb}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: {app: svc-web}
  ports: [{port: 80, targetPort: 8080}]
`, "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/lb-0", "{.status.conditions[?(@.type=='Ready')].status}", "True")
	port := l.jsonpath("svc/lb", "{.spec.healthCheckNodePort}")
	if port == "" || port == "0" {
		t.Fatalf("no healthCheckNodePort: %q", port)
	}
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DialContext: l.node.DialContext, DisableKeepAlives: true}}
	url := "http://" + nodeAddr + ":" + port + "/"
	check := func(code, local int) func() error {
		return func() error {
			resp, err := c.Get(url)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			var a struct {
				Service        struct{ Namespace, Name string }
				LocalEndpoints int `json:"localEndpoints"`
			}
			if err := json.Unmarshal(body, &a); err != nil {
				return fmt.Errorf("%d %q: %v", resp.StatusCode, body, err)
			}
			if resp.StatusCode != code || a.LocalEndpoints != local || a.Service.Name != "lb" || a.Service.Namespace != "default" {
				return fmt.Errorf("%d %s", resp.StatusCode, body)
			}
			return nil
		}
	}
	framework.Eventually(t, 20*time.Second, 200*time.Millisecond, "200 with 1 local endpoint on "+url, check(200, 1))
	l.k.ok("", "delete", "pod", "lb-0", "--grace-period=0", "--force")
	framework.Eventually(t, 20*time.Second, 200*time.Millisecond, "503 with 0 local endpoints on "+url, check(503, 0))
	l.k.ok("", "delete", "svc", "lb")
	framework.Eventually(t, 20*time.Second, 200*time.Millisecond, "the port closed", func() error {
		if resp, err := c.Get(url); err == nil {
			resp.Body.Close()
			return fmt.Errorf("still answers %d", resp.StatusCode)
		}
		return nil
	})
}
