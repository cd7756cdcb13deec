//go:build linux && e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
	"github.com/nodeagent/nodeagent/internal/nsutil"
)

// backendYAML is a test-image backend (restartPolicy Never, so that a
// stopped container stays stopped).
const backendYAML = `apiVersion: v1
kind: Pod
metadata: {name: NAME, labels: {app: svc-web}}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    args: [serve, --http, ":8080", --udp-echo, ":9001"]
    ports: [{name: http, containerPort: 8080}]
`

// servicesYAML: three backends, a client pod, a NodePort Service with a
// TCP and a UDP port, a ClientIP-affinity Service and a NodePort Service
// with externalTrafficPolicy Local and an external IP over the same pods.
var servicesYAML = strings.ReplaceAll(backendYAML, "NAME", "web-0") + "---\n" +
	strings.ReplaceAll(backendYAML, "NAME", "web-1") + "---\n" +
	strings.ReplaceAll(backendYAML, "NAME", "web-2") + `---
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
  type: NodePort
  selector: {app: svc-web}
  ports:
  - {name: http, port: 80, targetPort: http, nodePort: 30080}
  - {name: echo, port: 9001, protocol: UDP, targetPort: 9001}
---
apiVersion: v1
kind: Service
metadata: {name: sticky}
spec:
  selector: {app: svc-web}
  sessionAffinity: ClientIP
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: local}
spec:
  type: NodePort
  externalTrafficPolicy: Local
  externalIPs: [203.0.113.7]
  selector: {app: svc-web}
  ports: [{port: 80, targetPort: http, nodePort: 30081}]
`

// nodeAddr is the lab node's address on the pod bridge (the first address
// of the default pod CIDR): node ports answer on it.
const nodeAddr = "10.244.0.1"

func TestServices(t *testing.T) {
	for _, mode := range []string{"iptables", "nftables", "ipvs"} {
		t.Run(mode, func(t *testing.T) {
			if mode == "ipvs" {
				requireIPVS(t)
			}
			servicesScenario(t, mode)
		})
	}
}

// requireIPVS skips, saying why, on a kernel without IPVS (this machine's
// has none; Debian's, in `make vm-test`, has it).
func requireIPVS(t *testing.T) {
	t.Helper()
	if !hasIPVS() {
		t.Skip("this kernel has no IPVS (ip_vs, /proc/net/ip_vs): the ipvs scenario runs where it has, e.g. `make vm-test VM_TEST_RUN=TestServices`")
	}
	framework.RequireBinaries(t, "ipvsadm", "ipset")
}

func servicesScenario(t *testing.T, mode string) {
	framework.RequireBinaries(t, "conntrack", "iptables-save", "nft")
	l := startAgentLab(t, "--proxy-mode", mode)
	l.k.ok(servicesYAML, "apply", "-f", "-")
	for _, p := range []string{"web-0", "web-1", "web-2", "client"} {
		l.waitFor(t, 90*time.Second, "pod/"+p, "{.status.conditions[?(@.type=='Ready')].status}", "True")
	}
	l.waitFor(t, 30*time.Second, "endpointslices", "{range .items[?(@.metadata.labels.kubernetes\\.io/service-name=='web')]}{range .endpoints[*]}{.conditions.ready}{' '}{end}{end}", "true true true ")
	t.Logf("kubectl get pods,svc,endpointslices -o wide:\n%s", l.k.ok("", "get", "pods,svc,endpointslices", "-o", "wide"))
	vip := l.jsonpath("svc/web", "{.spec.clusterIP}")
	backends := []string{"web-0", "web-1", "web-2"}

	fromNode := l.httpClient(l.node.DialContext)
	fromPod := l.httpClient(l.podDialer(t, "client"))
	l.wantAll(t, fromNode, "http://"+vip+"/hostname", backends)
	l.wantAll(t, fromPod, "http://"+vip+"/hostname", backends)
	// Hairpin: a backend that reaches the Service gets itself too (in ipvs
	// mode only through the masquerade of the LOOP-BACK ipset's match).
	l.wantAll(t, l.httpClient(l.podDialer(t, "web-0")), "http://"+vip+"/hostname", backends)
	l.wantAll(t, fromNode, "http://"+nodeAddr+":30080/hostname", backends)
	l.wantAll(t, fromPod, "http://"+nodeAddr+":30080/hostname", backends)
	l.keepsClientAddress(t, backends)
	l.udpEcho(t, vip+":9001")
	if n := l.udpFlows(t, vip); n == 0 {
		t.Fatal("the UDP echo through the Service left no conntrack entry to check the cleanup with")
	}
	l.sticks(t, fromNode, "http://"+l.jsonpath("svc/sticky", "{.spec.clusterIP}")+"/hostname")
	l.leavesRotation(t, l.node.DialContext, "http://"+vip+"/hostname", "web-2")

	l.k.ok("", "delete", "svc", "web")
	framework.Eventually(t, 10*time.Second, 100*time.Millisecond, "the Service's rules are gone", func() error {
		if rules := l.proxyRules(t, mode); strings.Contains(rules, vip) {
			return fmt.Errorf("rules still name %s", vip)
		}
		return nil
	})
	if _, err := get(fromNode, "http://"+vip+"/hostname"); err == nil {
		t.Fatal("a deleted Service still answers")
	}
	framework.Eventually(t, 10*time.Second, 100*time.Millisecond, "the deleted Service's UDP conntrack entries are gone", func() error {
		if n := l.udpFlows(t, vip); n > 0 {
			return fmt.Errorf("%d UDP entries to %s", n, vip)
		}
		return nil
	})
}

// udpFlows counts the lab node's UDP conntrack entries to ip.
func (l *agentLab) udpFlows(t *testing.T, ip string) int {
	cmd := exec.Command("conntrack", "-L", "-p", "udp", "--orig-dst", ip)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := l.node.Run(cmd); err != nil {
		t.Fatalf("conntrack -L: %v: %s", err, errOut.String())
	}
	return strings.Count(out.String(), "\n")
}

func (l *agentLab) httpClient(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	// No keep-alive: every request is a new connection, balanced anew.
	return &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}
}

// podDialer dials from inside a pod's network namespace.
func (l *agentLab) podDialer(t *testing.T, pod string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	uid := l.jsonpath("pod/"+pod, "{.metadata.uid}")
	path := filepath.Join("/var/run/netns", l.dirs.NetNSPrefix+uid)
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nsutil.DialContext(ctx, path, network, addr)
	}
}

func get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b)), err
}

// wantAll sends up to 100 requests and wants every backend to answer.
func (l *agentLab) wantAll(t *testing.T, c *http.Client, url string, backends []string) {
	t.Helper()
	seen := map[string]int{}
	framework.Eventually(t, 20*time.Second, 50*time.Millisecond, "every backend answers "+url, func() error {
		body, err := get(c, url)
		if err != nil {
			return err
		}
		seen[body]++
		for _, b := range backends {
			if seen[b] == 0 {
				return fmt.Errorf("answers so far: %v", seen)
			}
		}
		return nil
	})
	t.Logf("%s: %v", url, seen)
}

// udpEcho sends a datagram to addr from the node and wants it back.
func (l *agentLab) udpEcho(t *testing.T, addr string) {
	t.Helper()
	framework.Eventually(t, 10*time.Second, 100*time.Millisecond, "UDP echo through "+addr, func() error {
		conn, err := l.node.DialContext(context.Background(), "udp", addr)
		if err != nil {
			return err
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(time.Second))
		if _, err := conn.Write([]byte("ping-udp")); err != nil {
			return err
		}
		buf := make([]byte, 64)
		n, err := conn.Read(buf)
		if err != nil {
			return err
		}
		if got := string(buf[:n]); !strings.Contains(got, "ping-udp") {
			return fmt.Errorf("echo %q", got)
		}
		return nil
	})
}

// sticks wants 20 requests through a ClientIP-affinity Service to reach
// one backend.
func (l *agentLab) sticks(t *testing.T, c *http.Client, url string) {
	t.Helper()
	var first string
	framework.Eventually(t, 10*time.Second, 100*time.Millisecond, "the sticky Service answers", func() error {
		var err error
		first, err = get(c, url)
		return err
	})
	for i := 0; i < 20; i++ {
		if got, err := get(c, url); err != nil || got != first {
			t.Fatalf("request %d through the affinity Service reached %q (%v), the first reached %q", i, got, err, first)
		}
	}
}

// leavesRotation stops backend's container and wants requests to stop
// reaching it: 30 answers in a row from the others, none failing. It
// reports when the last request that still went to it was sent (probes
// time out after 300 ms, so that one sent to a torn-down pod does not hide
// the figure).
func (l *agentLab) leavesRotation(t *testing.T, dial func(ctx context.Context, network, addr string) (net.Conn, error), url, backend string) {
	t.Helper()
	c := &http.Client{Timeout: 300 * time.Millisecond, Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}
	podIP := l.jsonpath("pod/"+backend, "{.status.podIP}")
	start := time.Now()
	l.get("http://" + podIP + ":8080/exit?code=0") // the container exits; the answer may not come back
	streak, lastBad, bad, spread := 0, time.Duration(0), 0, map[string]int{}
	framework.Eventually(t, 15*time.Second, 10*time.Millisecond, backend+" leaves the rotation", func() error {
		sent := time.Since(start)
		body, err := get(c, url)
		if err != nil || body == backend {
			streak, lastBad, spread = 0, sent, map[string]int{}
			bad++
			return fmt.Errorf("still reached: %q %v", body, err)
		}
		spread[body]++
		if streak++; streak < 30 {
			return fmt.Errorf("%d answers in a row without %s", streak, backend)
		}
		return nil
	})
	t.Logf("%s left the rotation of %s: %d requests after its container was told to exit went to it, the last sent %s after; then 30 answered by %v",
		backend, url, bad, lastBad.Round(time.Millisecond), spread)
}

// proxyRules dumps the lab node's rules of the mode: iptables-save, or
// nftables mode's table ("" when there is none).
func (l *agentLab) proxyRules(t *testing.T, mode string) string {
	cmd := exec.Command("iptables-save")
	switch mode {
	case "nftables":
		cmd = exec.Command("nft", "list", "table", "ip", "nodeagent")
	case "ipvs":
		cmd = exec.Command("ipvsadm", "-Ln")
	}
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := l.node.Run(cmd); err != nil {
		if mode == "nftables" && strings.Contains(errOut.String(), "No such file or directory") {
			return ""
		}
		t.Fatalf("%v: %v: %s", cmd.Args, err, errOut.String())
	}
	return out.String()
}
