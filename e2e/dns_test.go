//go:build linux && e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// dnsYAML: a web pod behind a ClusterIP Service, the same pod as db-0 of a
// headless Service (hostname + subdomain), an ExternalName Service, and a
// client pod.
const dnsYAML = `apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: dns-web}}
spec:
  hostname: db-0
  subdomain: db
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
  selector: {app: dns-web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  selector: {app: dns-web}
  ports: [{name: http, port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: ext}
spec:
  type: ExternalName
  externalName: example.com
`

// TestClusterDNS: pods resolve Services by their short and full names
// through the kube-dns Service (10.96.0.10), as with kube-dns/CoreDNS: a
// ClusterIP Service, a headless one and its named endpoint, SRV, PTR,
// ExternalName, a pod name and NXDOMAIN; the client pod reaches
// http://web/ by name; a later pod gets the Services' variables.
func TestClusterDNS(t *testing.T) {
	l := startAgentLab(t)
	l.k.ok(dnsYAML, "apply", "-f", "-")
	for _, p := range []string{"web", "client"} {
		l.waitFor(t, 90*time.Second, "pod/"+p, "{.status.phase}", "Running")
	}
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "the kube-dns Service", func() error {
		out, _, err := l.k.run("", "get", "svc", "kube-dns", "-n", "kube-system", "-o", "jsonpath={.spec.clusterIP}")
		if err != nil || out != "10.96.0.10" {
			return fmt.Errorf("ClusterIP %q %v", out, err)
		}
		return nil
	})
	webIP := l.jsonpath("svc/web", "{.spec.clusterIP}")
	podIP := l.jsonpath("pod/web", "{.status.podIP}")

	// The client pod's own resolver (ClusterFirst: search path, ndots 5).
	for _, url := range []string{"http://web/hostname", "http://web.default.svc.cluster.local/hostname", "http://db-0.db:8080/hostname"} {
		framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "client gets "+url, func() error {
			out, errOut, err := l.k.run("", "exec", "client", "--", "testserver", "get", url)
			if err != nil || !strings.Contains(out, "request 1: db-0") {
				return fmt.Errorf("%q %q %v", out, errOut, err)
			}
			return nil
		})
	}

	// The records, asked from inside the client pod's netns.
	dial := l.podDialer(t, "client")
	ask := func(name string, qtype uint16) *dns.Msg {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := dial(ctx, "udp", "10.96.0.10:53")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		c := &dns.Client{Timeout: 3 * time.Second}
		m, _, err := c.ExchangeWithConnContext(ctx, new(dns.Msg).SetQuestion(name, qtype), &dns.Conn{Conn: conn})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return m
	}
	want := func(name string, qtype uint16, rcode int, values ...string) {
		t.Helper()
		m := ask(name, qtype)
		var got []string
		for _, rr := range m.Answer {
			f := strings.Fields(rr.String())
			got = append(got, f[len(f)-1])
		}
		if m.Rcode != rcode || strings.Join(got, " ") != strings.Join(values, " ") {
			t.Errorf("%s %s: %s %q, want %s %q", name, dns.TypeToString[qtype], dns.RcodeToString[m.Rcode], got, dns.RcodeToString[rcode], values)
		}
	}
	ok, nx := dns.RcodeSuccess, dns.RcodeNameError
	want("web.default.svc.cluster.local.", dns.TypeA, ok, webIP)
	want("db.default.svc.cluster.local.", dns.TypeA, ok, podIP)
	want("db-0.db.default.svc.cluster.local.", dns.TypeA, ok, podIP)
	want("_http._tcp.web.default.svc.cluster.local.", dns.TypeSRV, ok, "web.default.svc.cluster.local.")
	want("_http._tcp.db.default.svc.cluster.local.", dns.TypeSRV, ok, "db-0.db.default.svc.cluster.local.")
	rev, _ := dns.ReverseAddr(webIP)
	want(rev, dns.TypePTR, ok, "web.default.svc.cluster.local.")
	want("ext.default.svc.cluster.local.", dns.TypeA, ok, "example.com.")
	want(strings.ReplaceAll(podIP, ".", "-")+".default.pod.cluster.local.", dns.TypeA, ok, podIP)
	want("nosuch.default.svc.cluster.local.", dns.TypeA, nx)
	want("kube-dns.kube-system.svc.cluster.local.", dns.TypeA, ok, "10.96.0.10")

	// A pod made after the Services sees them in its environment, and its
	// env values and args refer to them as $(VAR), as with kubelet.
	l.k.ok(`apiVersion: v1
kind: Pod
metadata: {name: envpod}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    command: [sh, -c, 'echo "arg=$0"; exec testserver pause', "$(API)"]
    env: [{name: API, value: "$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)"}]
`, "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/envpod", "{.status.phase}", "Running")
	env := "\n" + l.k.ok("", "exec", "envpod", "--", "env")
	for _, v := range []string{"API=10.96.0.1:443", "KUBERNETES_SERVICE_HOST=10.96.0.1", "WEB_SERVICE_HOST=" + webIP,
		"WEB_SERVICE_PORT_HTTP=80", "WEB_PORT_80_TCP=tcp://" + webIP + ":80"} {
		if !strings.Contains(env, "\n"+v+"\n") {
			t.Errorf("envpod's environment has no %s:%s", v, env)
		}
	}
	if strings.Contains(env, "DB_SERVICE_HOST") || strings.Contains(env, "EXT_SERVICE_HOST") {
		t.Errorf("headless or ExternalName Services in the environment:%s", env)
	}
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "envpod's expanded argument", func() error {
		if logs := l.k.ok("", "logs", "envpod"); !strings.Contains(logs, "arg=10.96.0.1:443") {
			return fmt.Errorf("logs %q", logs)
		}
		return nil
	})

	// Over TCP too (large answers, and resolvers that start there).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := dial(ctx, "tcp", "10.96.0.10:53")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	m, _, err := (&dns.Client{Net: "tcp", Timeout: 3 * time.Second}).ExchangeWithConnContext(ctx,
		new(dns.Msg).SetQuestion("web.default.svc.cluster.local.", dns.TypeA), &dns.Conn{Conn: conn})
	if err != nil || len(m.Answer) != 1 || m.Answer[0].(*dns.A).A.String() != webIP {
		t.Fatalf("over TCP: %v %v", m, err)
	}
}
