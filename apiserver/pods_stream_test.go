package apiserver

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	gwebsocket "github.com/gorilla/websocket"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
	crirc "k8s.io/cri-streaming/pkg/streaming/remotecommand"
	kexec "k8s.io/utils/exec"
)

// catExecutor is an agent's runtime in miniature: it copies stdin to
// stdout and exits 3.
type catExecutor struct{}

func (catExecutor) ExecInContainer(_ context.Context, _, _, _ string, cmd []string, in io.Reader, out, _ io.WriteCloser,
	_ bool, _ <-chan crirc.TerminalSize, _ time.Duration) error {
	io.Copy(out, in)
	return kexec.CodeExitError{Err: errors.New("exit 3"), Code: 3}
}

// streamAgent is a fake agent that serves exec with cri-streaming's SPDY
// server, as kubelet does, and records the headers it was sent.
func streamAgent(t *testing.T, ts *testServer) (*fakeAgent, func() []http.Header) {
	t.Helper()
	agent := startFakeAgent(t, ts, []net.IP{net.ParseIP("127.0.0.1")})
	var mu sync.Mutex
	var seen []http.Header
	agent.reply = func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		opts, err := crirc.NewOptions(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		crirc.ServeExec(w, r, catExecutor{}, "", "", "", r.URL.Query()["command"], opts, time.Minute, 30*time.Second,
			crirc.SupportedStreamingProtocols)
	}
	return agent, func() []http.Header {
		mu.Lock()
		defer mu.Unlock()
		return seen
	}
}

func (ts *testServer) adminConfig(t *testing.T) *rest.Config {
	t.Helper()
	data, err := os.ReadFile(ts.srv.AdminKubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	return ts.restConfig(t, data)
}

// kubectl exec's request reaches the pod's agent upgraded end to end: the
// agent is verified and sees the server's kubelet-client identity, never
// the client's credentials; the exit code comes back.
func TestPodExecIsProxiedToTheAgent(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	agent, headers := streamAgent(t, ts)
	withNodeAt(t, ts, agent.port())
	cfg := ts.adminConfig(t)
	cfg.BearerToken = "client-secret" // sent beside the certificate, which wins
	u, _ := url.Parse(cfg.Host + "/api/v1/namespaces/default/pods/web/exec?command=cat&command=-&stdin=true&stdout=true&container=c")
	ex, err := remotecommand.NewSPDYExecutor(cfg, "POST", u)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	err = ex.StreamWithContext(bg, remotecommand.StreamOptions{Stdin: strings.NewReader("hello\n"), Stdout: &out})
	var exit utilexec.ExitError
	if !errors.As(err, &exit) || exit.ExitStatus() != 3 || out.String() != "hello\n" {
		t.Fatalf("exec: %v, output %q; want exit code 3 and the input back", err, out.String())
	}
	if got := agent.requests(); len(got) != 1 || got[0] != "/exec/default/web/c?command=cat&command=-&input=1&output=1" {
		t.Fatalf("the agent was asked %v", got)
	}
	if h := headers()[0]; h.Get("Authorization") != "" {
		t.Errorf("the client's Authorization header reached the agent: %q", h.Get("Authorization"))
	}
	if peer := agent.peers[0]; peer.Subject.CommonName != "kube-apiserver-kubelet-client" {
		t.Errorf("the server called the agent as %q", peer.Subject.CommonName)
	}
}

// A WebSocket handshake (GET, as kubectl 1.30+ sends) is proxied as it is:
// the agent answers it.
func TestPodAttachWebSocketIsProxiedToTheAgent(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	agent := startFakeAgent(t, ts, []net.IP{net.ParseIP("127.0.0.1")})
	agent.reply = func(w http.ResponseWriter, r *http.Request) {
		up := gwebsocket.Upgrader{Subprotocols: []string{"v5.channel.k8s.io"}}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		if typ, msg, err := ws.ReadMessage(); err == nil {
			ws.WriteMessage(typ, append([]byte("echo:"), msg...))
		}
	}
	withNodeAt(t, ts, agent.port())
	cfg := ts.adminConfig(t)
	tlsCfg, err := rest.TLSConfigFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := gwebsocket.Dialer{TLSClientConfig: tlsCfg, Subprotocols: []string{"v5.channel.k8s.io"}, HandshakeTimeout: 10 * time.Second}
	wsURL := strings.Replace(cfg.Host, "https://", "wss://", 1) + "/api/v1/namespaces/default/pods/web/attach?stdout=true&container=c"
	ws, resp, err := d.Dial(wsURL, nil)
	if err != nil {
		t.Fatalf("websocket through the server: %v (%v)", err, resp)
	}
	defer ws.Close()
	if ws.Subprotocol() != "v5.channel.k8s.io" {
		t.Errorf("subprotocol %q", ws.Subprotocol())
	}
	ws.WriteMessage(gwebsocket.BinaryMessage, []byte("hi"))
	if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != "echo:hi" {
		t.Fatalf("echo through the server: %q %v", msg, err)
	}
	if got := agent.requests(); len(got) != 1 || got[0] != "/attach/default/web/c?output=1" {
		t.Fatalf("the agent was asked %v", got)
	}
}

// What the server refuses before anything reaches an agent: nodes (POST
// and GET), containers not the pod's, missing commands, a pod without a
// node, ports out of range, a request that is not an upgrade.
func TestPodStreamRefusals(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	agent, _ := streamAgent(t, ts)
	withNodeAt(t, ts, agent.port())
	unbound := testPod("unbound")
	if _, err := ts.admin(t).CoreV1().Pods("default").Create(bg, unbound, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	admin := ts.admin(t).CoreV1().RESTClient()
	node := ts.node(t, "n1").CoreV1().RESTClient()
	for _, c := range []struct {
		name   string
		client rest.Interface
		verb   string
		pod    string
		sub    string
		params map[string][]string
		is     func(error) bool
		msg    string
	}{
		{"node posts exec", node, "POST", "web", "exec", map[string][]string{"command": {"id"}, "stdout": {"true"}}, apierrors.IsForbidden,
			`User "system:node:n1" cannot create resource "pods/exec" in API group "" in the namespace "default"`},
		{"node gets attach", node, "GET", "web", "attach", map[string][]string{"stdout": {"true"}}, apierrors.IsForbidden,
			`User "system:node:n1" cannot get resource "pods/attach" in API group "" in the namespace "default"`},
		{"node posts portforward", node, "POST", "web", "portforward", nil, apierrors.IsForbidden,
			`User "system:node:n1" cannot create resource "pods/portforward"`},
		{"container not the pod's", admin, "POST", "web", "exec", map[string][]string{"container": {"../x"}, "command": {"id"}},
			apierrors.IsBadRequest, "container ../x is not valid for pod web"},
		{"no command", admin, "POST", "web", "exec", map[string][]string{"stdout": {"true"}}, apierrors.IsBadRequest,
			"you must specify at least one command for the container"},
		{"not a boolean", admin, "POST", "web", "attach", map[string][]string{"stdin": {"yes please"}}, apierrors.IsBadRequest,
			`stdin: "yes please" is not a boolean`},
		{"no node", admin, "POST", "unbound", "exec", map[string][]string{"command": {"id"}}, apierrors.IsBadRequest,
			"pod unbound does not have a host assigned"},
		{"port 0", admin, "POST", "web", "portforward", map[string][]string{"ports": {"0"}}, apierrors.IsBadRequest,
			`ports: "0" is not a port number (1 to 65535)`},
		{"no upgrade", admin, "POST", "web", "exec", map[string][]string{"command": {"id"}, "stdout": {"true"}}, apierrors.IsBadRequest,
			"Upgrade request required"},
	} {
		req := c.client.Verb(c.verb).Namespace("default").Resource("pods").Name(c.pod).SubResource(c.sub)
		for k, vs := range c.params {
			for _, v := range vs {
				req = req.Param(k, v)
			}
		}
		err := req.Do(bg).Error()
		if !c.is(err) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want %q", c.name, err, c.msg)
		}
	}
	if got := agent.requests(); len(got) != 0 {
		t.Fatalf("refused requests reached the agent: %v", got)
	}
}

// Discovery lists the stream subresources with kube's kinds and verbs.
func TestDiscoveryListsPodStreamSubresources(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	list, err := ts.admin(t).Discovery().ServerResourcesForGroupVersion("v1")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"pods/exec": "PodExecOptions", "pods/attach": "PodAttachOptions", "pods/portforward": "PodPortForwardOptions"}
	for _, r := range list.APIResources {
		if kind, ok := want[r.Name]; ok {
			if r.Kind != kind || strings.Join(r.Verbs, ",") != "create,get" {
				t.Errorf("%s: kind %s, verbs %v", r.Name, r.Kind, r.Verbs)
			}
			delete(want, r.Name)
		}
	}
	if len(want) != 0 {
		t.Errorf("not in discovery: %v", want)
	}
}

// pods/log options kube refuses are refused here, before the agent.
func TestPodLogOptionsAreValidated(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	agent := startFakeAgent(t, ts, []net.IP{net.ParseIP("127.0.0.1")})
	withNodeAt(t, ts, agent.port())
	neg, zero := int64(-1), int64(0)
	for _, c := range []struct {
		opts *corev1.PodLogOptions
		msg  string
	}{
		{&corev1.PodLogOptions{Container: "c", TailLines: &neg}, "tailLines: Invalid value: -1: must be greater than or equal to 0"},
		{&corev1.PodLogOptions{Container: "c", LimitBytes: &zero}, "limitBytes: Invalid value: 0: must be greater than 0"},
		{&corev1.PodLogOptions{Container: "c", SinceSeconds: &zero}, "sinceSeconds: Invalid value: 0: must be greater than 0"},
		{&corev1.PodLogOptions{Container: "c", SinceSeconds: &neg, SinceTime: &metav1.Time{Time: time.Now()}},
			"at most one of `sinceTime` or `sinceSeconds` may be specified"},
	} {
		if _, err := ts.logs(t, c.opts); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%+v: %v, want 422 %q", c.opts, err, c.msg)
		}
	}
	raw := ts.admin(t).CoreV1().RESTClient().Get().Namespace("default").Resource("pods").Name("web").SubResource("log").
		Param("tailLines", "ten")
	if _, err := readLogs(raw); !apierrors.IsBadRequest(err) {
		t.Errorf("tailLines=ten: %v, want 400", err)
	}
	if got := agent.requests(); len(got) != 0 {
		t.Fatalf("refused requests reached the agent: %v", got)
	}
}
