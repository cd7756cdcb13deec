package apiserver

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/controllers/serviceaccount"
)

// testServer runs a server on loopback with its data in a temp dir.
type testServer struct {
	srv    *Server
	cancel context.CancelFunc
	done   chan error
	dir    string
	port   int
}

func startServer(t testing.TB, dir string, port int) *testServer {
	t.Helper()
	return startServerWith(t, dir, port, nil)
}

// startServerWith is startServer with a change to the config (nil: none).
func startServerWith(t testing.TB, dir string, port int, change func(*Config)) *testServer {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.DataDir, cfg.BindAddress, cfg.AdvertiseAddress = dir, "127.0.0.1", "127.0.0.1"
	cfg.Port = l.Addr().(*net.TCPAddr).Port
	if change != nil {
		change(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		l.Close()
		t.Fatal(err)
	}
	ts := &testServer{srv: srv, cancel: cancel, done: make(chan error, 1), dir: dir, port: cfg.Port}
	go func() { ts.done <- srv.Serve(ctx, l) }()
	t.Cleanup(ts.stop)
	// As a client that waits for /readyz: the RBAC index has read the
	// roles and bindings (health answers 503 until then, as kube's
	// poststarthook/rbac/bootstrap-roles check).
	if srv.rbac != nil {
		wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
		err := srv.rbac.WaitSynced(wctx)
		wcancel()
		if err != nil {
			t.Fatalf("RBAC index not synced: %v", err)
		}
	}
	ts.runServiceAccounts(t, ctx)
	return ts
}

// runServiceAccounts runs the service account controller against the
// server, as `nodeagent server` does: pods run as their namespace's
// "default" account, which the ServiceAccount admission requires.
func (ts *testServer) runServiceAccounts(t testing.TB, ctx context.Context) {
	t.Helper()
	cfg, err := ts.srv.LoopbackConfig()
	if err != nil {
		t.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	factory := informers.NewSharedInformerFactory(client, 0)
	c := serviceaccount.New(client, factory, slog.New(slog.NewTextHandler(io.Discard, nil)), clock.RealClock{})
	ctx, cancel := context.WithCancel(ctx)
	factory.Start(ctx.Done())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		c.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-ran
		factory.Shutdown()
	})
}

func (ts *testServer) stop() {
	if ts.cancel == nil {
		return
	}
	ts.cancel()
	<-ts.done
	ts.srv.Close()
	ts.cancel = nil
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func (ts *testServer) restConfig(t testing.TB, kubeconfig []byte) *rest.Config {
	t.Helper()
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func (ts *testServer) admin(t *testing.T) kubernetes.Interface {
	t.Helper()
	data, err := os.ReadFile(ts.srv.AdminKubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	return kubernetes.NewForConfigOrDie(ts.restConfig(t, data))
}

func (ts *testServer) node(t *testing.T, name string) kubernetes.Interface {
	t.Helper()
	data, err := ts.srv.NodeKubeconfig(name)
	if err != nil {
		t.Fatal(err)
	}
	return kubernetes.NewForConfigOrDie(ts.restConfig(t, data))
}

func testPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "127.0.0.1:5000/nodeagent/testserver:v1"}}},
	}
}

var bg = context.Background()

func TestPodLifecycleThroughClientGo(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c := ts.admin(t)
	pods := c.CoreV1().Pods("default")

	created, err := pods.Create(bg, testPod("web"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if created.UID == "" || created.ResourceVersion == "" || created.CreationTimestamp.IsZero() {
		t.Fatalf("server-owned metadata missing: %+v", created.ObjectMeta)
	}
	if created.Spec.RestartPolicy != corev1.RestartPolicyAlways || created.Spec.DNSPolicy != corev1.DNSClusterFirst ||
		created.Spec.Containers[0].ImagePullPolicy != corev1.PullIfNotPresent || created.Status.Phase != corev1.PodPending {
		t.Fatalf("defaults not applied: %+v", created.Spec)
	}
	if _, err := pods.Create(bg, testPod("web"), metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("duplicate create: %v", err)
	}

	bad := testPod("bad")
	bad.Spec.Containers[0].Image = ""
	_, err = pods.Create(bg, bad, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || err.Error() != `Pod "bad" is invalid: spec.containers[0].image: Required value` {
		t.Fatalf("invalid pod: %v", err)
	}

	stale := created.DeepCopy()
	created.Labels["tier"] = "front"
	updated, err := pods.Update(bg, created, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stale.Labels["tier"] = "back"
	if _, err := pods.Update(bg, stale, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Fatalf("update from a stale resourceVersion: %v", err)
	}

	patched, err := pods.Patch(bg, "web", types.StrategicMergePatchType, []byte(`{"metadata":{"labels":{"patched":"smp"}}}`), metav1.PatchOptions{})
	if err != nil || patched.Labels["patched"] != "smp" || patched.Labels["tier"] != "front" {
		t.Fatalf("strategic merge patch: %v %v", err, patched.Labels)
	}
	patched, err = pods.Patch(bg, "web", types.MergePatchType, []byte(`{"metadata":{"labels":{"patched":null}}}`), metav1.PatchOptions{})
	if err != nil || patched.Labels["patched"] != "" {
		t.Fatalf("merge patch: %v %v", err, patched.Labels)
	}
	patched, err = pods.Patch(bg, "web", types.JSONPatchType, []byte(`[{"op":"add","path":"/metadata/annotations","value":{"a":"b"}}]`), metav1.PatchOptions{})
	if err != nil || patched.Annotations["a"] != "b" {
		t.Fatalf("json patch: %v %v", err, patched.Annotations)
	}
	if _, err := pods.Patch(bg, "web", types.MergePatchType, []byte(`{"spec":{"restartPolicy":"Never"}}`), metav1.PatchOptions{}); !apierrors.IsInvalid(err) {
		t.Fatalf("changing an immutable field: %v", err)
	}
	if updated.Generation != 1 {
		t.Fatalf("metadata-only update bumped generation to %d", updated.Generation)
	}

	if err := pods.Delete(bg, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Get(bg, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a pod on no node should go at once: %v", err)
	}
}

func TestGracefulDeletionOfBoundPod(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c := ts.admin(t)
	pods := c.CoreV1().Pods("default")
	if _, err := pods.Create(bg, testPod("bound"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "bound"}, Target: corev1.ObjectReference{Kind: "Node", Name: "n1"}}
	if err := pods.Bind(bg, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := pods.Bind(bg, binding, metav1.CreateOptions{}); !apierrors.IsConflict(err) {
		t.Fatalf("binding twice: %v", err)
	}
	if err := pods.Delete(bg, "bound", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err := pods.Get(bg, "bound", metav1.GetOptions{})
	if err != nil || p.DeletionTimestamp == nil || *p.DeletionGracePeriodSeconds != 30 {
		t.Fatalf("a bound pod should be terminating with 30s grace: %v %+v", err, p)
	}
	// The node confirms with a zero grace period.
	zero := int64(0)
	if err := ts.node(t, "n1").CoreV1().Pods("default").Delete(bg, "bound", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Get(bg, "bound", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("after the node's confirmation: %v", err)
	}
}

func TestListSelectorsPagingAndWatch(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	pods := ts.admin(t).CoreV1().Pods("default")
	for _, n := range []string{"a", "b", "c", "d"} {
		p := testPod(n)
		if n == "d" {
			p.Labels["app"] = "db"
			p.Spec.NodeName = "n1"
		}
		if _, err := pods.Create(bg, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := pods.List(bg, metav1.ListOptions{LabelSelector: "app=web", Limit: 2})
	if err != nil || len(list.Items) != 2 || list.Continue == "" {
		t.Fatalf("first page: %v %d %q", err, len(list.Items), list.Continue)
	}
	rest, err := pods.List(bg, metav1.ListOptions{LabelSelector: "app=web", Limit: 2, Continue: list.Continue})
	if err != nil || len(rest.Items) != 1 || rest.Items[0].Name != "c" {
		t.Fatalf("second page: %v %+v", err, rest.Items)
	}
	onNode, err := pods.List(bg, metav1.ListOptions{FieldSelector: "spec.nodeName=n1"})
	if err != nil || len(onNode.Items) != 1 || onNode.Items[0].Name != "d" {
		t.Fatalf("fieldSelector spec.nodeName: %v %+v", err, onNode.Items)
	}
	if _, err := pods.List(bg, metav1.ListOptions{FieldSelector: "spec.bogus=x"}); !apierrors.IsBadRequest(err) {
		t.Fatalf("unsupported field selector: %v", err)
	}

	w, err := pods.Watch(bg, metav1.ListOptions{ResourceVersion: list.ResourceVersion, LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	pods.Patch(bg, "a", types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"1"}}}`), metav1.PatchOptions{})
	pods.Patch(bg, "d", types.MergePatchType, []byte(`{"metadata":{"labels":{"app":"web"}}}`), metav1.PatchOptions{})
	pods.Delete(bg, "b", metav1.DeleteOptions{})
	want := []string{"MODIFIED a", "ADDED d", "DELETED b"}
	for _, exp := range want {
		select {
		case ev := <-w.ResultChan():
			p, ok := ev.Object.(*corev1.Pod)
			if !ok || string(ev.Type)+" "+p.Name != exp {
				t.Fatalf("event %s %+v, want %s", ev.Type, ev.Object, exp)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no event; want %s", exp)
		}
	}
}

func TestAuthnAndNodeAuthz(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	cfg := ts.restConfig(t, mustRead(t, ts.srv.AdminKubeconfig()))
	anon := rest.AnonymousClientConfig(cfg)
	if _, err := kubernetes.NewForConfigOrDie(anon).CoreV1().Pods("").List(bg, metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
		t.Fatalf("anonymous list: %v", err)
	}
	n1 := ts.node(t, "n1").CoreV1().Nodes()
	if _, err := n1.Create(bg, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("node creating itself: %v", err)
	}
	if _, err := ts.admin(t).CoreV1().Nodes().Create(bg, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n2"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := n1.Patch(bg, "n2", types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
	want := `nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"`
	if !apierrors.IsForbidden(err) || err.Error() != want {
		t.Fatalf("node patching another node:\n got %v\nwant %s", err, want)
	}
	if _, err := ts.node(t, "n1").CoreV1().Secrets("default").List(bg, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("node listing secrets: %v", err)
	}
}

func TestRestartKeepsObjectsAndVersions(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir, 0)
	created, err := ts.admin(t).CoreV1().ConfigMaps("default").Create(bg,
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "keep"}, Data: map[string]string{"k": "v"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	port := ts.port
	ts.stop()
	ts2 := startServer(t, dir, port)
	got, err := ts2.admin(t).CoreV1().ConfigMaps("default").Get(bg, "keep", metav1.GetOptions{})
	if err != nil || got.ResourceVersion != created.ResourceVersion || got.UID != created.UID || got.Data["k"] != "v" {
		t.Fatalf("after restart: %v %+v (created rv %s)", err, got, created.ResourceVersion)
	}
	if _, err := os.Stat(filepath.Join(dir, "pki", "ca.crt")); err != nil {
		t.Fatal(err)
	}
}

func TestNamespaceLifecycle(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c := ts.admin(t)
	nss, err := c.CoreV1().Namespaces().List(bg, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range nss.Items {
		names = append(names, n.Name)
	}
	if strings.Join(names, ",") != "default,kube-node-lease,kube-public,kube-system" {
		t.Fatalf("namespaces %v", names)
	}
	_, err = c.CoreV1().ConfigMaps("nope").Create(bg, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	if !apierrors.IsNotFound(err) || err.Error() != `namespaces "nope" not found` {
		t.Fatalf("create in a missing namespace: %v", err)
	}
}

func mustRead(t testing.TB, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

var _ = watch.Added

var metaListAll = metav1.ListOptions{}
