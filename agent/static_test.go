package agent

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/nodeagent/nodeagent/apiserver/admission"
	"github.com/nodeagent/nodeagent/cri"
	crifake "github.com/nodeagent/nodeagent/cri/fake"
)

const webManifest = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: c
    image: img:1
`

const webKey = "default/web-n1"

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// manifestDir holds the web pod and files that are no v1 Pod.
func manifestDir(t *testing.T) string {
	dir := t.TempDir()
	writeFile(t, dir, "web.yaml", webManifest)
	writeFile(t, dir, "garbage.yaml", "{{ not yaml: [")
	writeFile(t, dir, "svc.json", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"}}`)
	writeFile(t, dir, "invalid.yml", "apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec: {containers: [{name: c, image: i}]}\n")
	writeFile(t, dir, "notes.txt", webManifest)
	return dir
}

func TestReadManifests(t *testing.T) {
	dir := manifestDir(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pods, err := readManifests(dir, "n1", t0, log)
	if err != nil {
		t.Fatal(err)
	}
	p := pods[webKey]
	if len(pods) != 1 || p == nil {
		t.Fatalf("want only %s, got %v", webKey, pods)
	}
	uid := staticUID([]byte(webManifest), "n1")
	checks := map[string]bool{
		"uid is the hash":      p.UID == uid && len(uid) == 36 && uid[8] == '-',
		"node":                 p.Spec.NodeName == "n1",
		"source annotation":    p.Annotations[annotationConfigSource] == "file",
		"hash annotation":      p.Annotations[annotationConfigHash] == string(uid),
		"seen annotation":      p.Annotations[annotationConfigSeen] == t0.Format(time.RFC3339Nano),
		"defaults applied":     p.Spec.RestartPolicy == corev1.RestartPolicyAlways && p.Spec.DNSPolicy == corev1.DNSClusterFirst,
		"labels kept":          p.Labels["app"] == "web",
		"another node, uid":    staticUID([]byte(webManifest), "n2") != uid,
		"another content, uid": staticUID([]byte(webManifest+"\n"), "n1") != uid,
	}
	for name, ok := range checks {
		if !ok {
			t.Errorf("%s: %+v", name, p)
		}
	}
}

// staticHarness is a harness whose agent reads dir; its Node is
// registered, as the agent registers it before mirror pods are made.
func staticHarness(t *testing.T, dir string, start bool) *harness {
	rt := crifake.New()
	rt.AddImage("img:1")
	h := newUnstartedHarness(t, rt)
	h.a.cfg.PodManifestPath = dir
	if _, err := h.client.CoreV1().Nodes().Create(h.ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", UID: "uid-n1"}},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if start {
		h.startInformer()
	}
	return h
}

// drain syncs every key queued.
func (h *harness) drain() {
	h.t.Helper()
	for h.a.queue.Len() > 0 {
		key, _ := h.a.queue.Get()
		h.syncWork(key)
		h.a.queue.Forget(key)
		h.a.queue.Done(key)
	}
}

// runningUIDs are the pod UIDs of the running containers.
func (h *harness) runningUIDs() map[string]bool {
	out := map[string]bool{}
	for _, c := range h.containers() {
		if c.State == cri.ContainerRunning {
			out[c.Labels[cri.LabelPodUID]] = true
		}
	}
	return out
}

func (h *harness) mirror() (*corev1.Pod, error) {
	return h.client.CoreV1().Pods("default").Get(h.ctx, "web-n1", metav1.GetOptions{})
}

// waitCacheGone waits until the informer lost the pod.
func (h *harness) waitCacheGone(key string) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, ok, _ := h.a.pods.GetIndexer().GetByKey(key); !ok {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("informer still has %s", key)
}

// runWeb starts the web static pod and its mirror pod, with the status
// written to the mirror.
func runWeb(t *testing.T) (*harness, string) {
	dir := manifestDir(t)
	h := staticHarness(t, dir, true)
	h.a.scanStatic()
	h.drain()
	uid := string(staticUID([]byte(webManifest), "n1"))
	if got := h.runningUIDs(); len(got) != 1 || !got[uid] {
		t.Fatalf("running pods %v, want %s", got, uid)
	}
	if sbs, _ := h.rt.ListPodSandboxes(h.ctx, nil); len(sbs) != 1 {
		t.Fatalf("sandboxes %+v", sbs)
	}
	m, err := h.mirror()
	if err != nil || m.Annotations[annotationConfigMirror] != uid || m.Spec.NodeName != "n1" {
		t.Fatalf("mirror pod %+v: %v", m, err)
	}
	h.waitCache("default", "web-n1")
	h.sync(webKey)
	if m, _ := h.mirror(); m.Status.Phase != corev1.PodRunning || len(m.Status.ContainerStatuses) != 1 {
		t.Fatalf("mirror status %+v", m.Status)
	}
	return h, dir
}

func TestStaticPodRunsWithAMirrorPod(t *testing.T) {
	h, _ := runWeb(t)
	// The mirror pod is never run as an API pod.
	h.sync(webKey)
	if len(h.containers()) != 1 {
		t.Fatalf("containers %+v", h.containers())
	}
}

func TestStaticPodRunsWithoutTheAPI(t *testing.T) {
	h := staticHarness(t, manifestDir(t), false)
	h.client.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("connection refused")
	})
	ctx := t.Context()
	h.a.startInformers(ctx.Done())
	h.a.scanStatic()
	h.drain()
	uid := string(staticUID([]byte(webManifest), "n1"))
	if got := h.runningUIDs(); !got[uid] {
		t.Fatalf("running pods %v", got)
	}
	// Runtime events reach the static pod; nothing is an orphan yet.
	h.a.enqueueUID(uid)
	h.a.enqueueUID("someone-else")
	key, _ := h.a.queue.Get()
	if key != nameKey("default", "web-n1") || h.a.queue.Len() != 0 {
		t.Fatalf("queued %s and %d more", key, h.a.queue.Len())
	}
	h.a.queue.Done(key)
	if pods, _ := h.client.Tracker().List(corev1.SchemeGroupVersion.WithResource("pods"), corev1.SchemeGroupVersion.WithKind("Pod"), ""); len(pods.(*corev1.PodList).Items) != 0 {
		t.Fatalf("pods written without a synced cache: %+v", pods)
	}
}

func TestStaticPodIsNotAnOrphan(t *testing.T) {
	h, _ := runWeb(t)
	h.a.cleanupOrphans(h.ctx)
	h.drain()
	if len(h.runningUIDs()) != 1 {
		t.Fatalf("housekeeping tore the static pod down: %+v", h.containers())
	}
}

func TestRemovedManifestTearsDown(t *testing.T) {
	h, dir := runWeb(t)
	if err := os.Remove(filepath.Join(dir, "web.yaml")); err != nil {
		t.Fatal(err)
	}
	h.a.scanStatic()
	h.drain()
	if sbs, _ := h.rt.ListPodSandboxes(h.ctx, nil); len(sbs) != 0 || len(h.containers()) != 0 {
		t.Fatalf("left: sandboxes %+v containers %+v", sbs, h.containers())
	}
	if _, err := h.mirror(); !apierrors.IsNotFound(err) {
		t.Fatalf("mirror pod not deleted: %v", err)
	}
}

func TestChangedManifestReplacesThePod(t *testing.T) {
	h, dir := runWeb(t)
	changed := webManifest + "    command: [sleep, inf]\n"
	writeFile(t, dir, "web.yaml", changed)
	h.a.scanStatic()
	h.drain()
	uid := string(staticUID([]byte(changed), "n1"))
	if got := h.runningUIDs(); len(got) != 1 || !got[uid] {
		t.Fatalf("running pods %v, want only %s", got, uid)
	}
	// The stale mirror pod is deleted, then created anew once the
	// informer saw it go.
	h.eventually("a mirror pod with the new hash", func() bool {
		h.sync(webKey)
		m, err := h.mirror()
		return err == nil && m.Annotations[annotationConfigMirror] == uid
	})
}

// eventually polls cond while the informer catches up.
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("no %s", what)
}

func TestDeletedMirrorPodIsRecreated(t *testing.T) {
	h, _ := runWeb(t)
	if err := h.client.CoreV1().Pods("default").Delete(h.ctx, "web-n1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitCacheGone(webKey)
	h.sync(webKey)
	if _, err := h.mirror(); err != nil {
		t.Fatalf("mirror pod not recreated: %v", err)
	}
	if len(h.runningUIDs()) != 1 {
		t.Fatalf("the static pod stopped: %+v", h.containers())
	}
}

// The mirror pod passes the API server's admission for its node: owned by
// the Node (by UID), no service account, nothing from the API.
func TestMirrorPodIsWhatTheNodeMayCreate(t *testing.T) {
	h, _ := runWeb(t)
	m, err := h.mirror()
	if err != nil {
		t.Fatal(err)
	}
	a := admission.Attributes{Operation: admission.Create, Resource: schema.GroupResource{Resource: "pods"},
		Namespace: m.Namespace, Object: m}
	if err := admission.MirrorPod(a); err != nil {
		t.Error(err)
	}
	if err := admission.NodeRestriction(h.ctx, "n1", a, fakeNodes{h}); err != nil {
		t.Error(err)
	}
	if m.Spec.ServiceAccountName != "" || m.OwnerReferences[0].UID != "uid-n1" {
		t.Errorf("serviceAccountName %q, owner %+v", m.Spec.ServiceAccountName, m.OwnerReferences)
	}
}

type fakeNodes struct{ h *harness }

func (f fakeNodes) Node(ctx context.Context, name string) (*corev1.Node, error) {
	return f.h.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
}

// Before the node has registered, the static pod runs and its mirror pod
// waits; it is made on a later sync.
func TestMirrorPodWaitsForTheNode(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img:1")
	h := newUnstartedHarness(t, rt)
	h.a.cfg.PodManifestPath = manifestDir(t)
	h.startInformer()
	h.a.scanStatic()
	if err := h.a.syncKey(h.ctx, nameKey("default", "web-n1")); !apierrors.IsNotFound(err) {
		t.Fatalf("sync before the Node exists: %v", err)
	}
	if len(h.runningUIDs()) != 1 {
		t.Fatalf("the static pod does not run: %v", h.runningUIDs())
	}
	if _, err := h.client.CoreV1().Nodes().Create(h.ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.sync(webKey)
	if _, err := h.mirror(); err != nil {
		t.Fatalf("mirror pod after the Node registered: %v", err)
	}
}

// Like kubelet, the agent refuses a static pod that would need objects
// from the API, and gives the others no service account.
func TestStaticPodsReferenceNoAPIObjects(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "web.yaml", webManifest)
	writeFile(t, dir, "secret.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: s}\nspec:\n  containers: [{name: c, image: i}]\n"+
		"  volumes: [{name: v, secret: {secretName: db}}]\n")
	writeFile(t, dir, "sa.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: sa}\nspec:\n  serviceAccountName: builder\n  containers: [{name: c, image: i}]\n")
	writeFile(t, dir, "claim.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: claim}\nspec:\n  containers: [{name: c, image: i}]\n"+
		"  volumes: [{name: v, persistentVolumeClaim: {claimName: data}}]\n")
	var logs strings.Builder
	pods, err := readManifests(dir, "n1", t0, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 1 || pods[webKey] == nil {
		t.Fatalf("pods read: %v, want only %s", slices.Sorted(maps.Keys(pods)), webKey)
	}
	if sa := pods[webKey].Spec.ServiceAccountName; sa != "" {
		t.Errorf("static pod has service account %q", sa)
	}
	for _, want := range []string{"static pods may not reference secrets", "static pods may not reference serviceaccounts",
		"static pods may not reference persistentvolumeclaims"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}
