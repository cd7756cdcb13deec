package rootcacert

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"
)

const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

func namespace(name string, phase corev1.NamespacePhase) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NamespaceStatus{Phase: phase}}
}

// run starts a controller on a fake clientset holding objs.
func run(t *testing.T, objs ...runtime.Object) *fake.Clientset {
	t.Helper()
	client := fake.NewClientset(objs...)
	factory := informers.NewSharedInformerFactory(client, 0)
	c, err := New(client, factory, []byte(pem), slog.New(slog.NewTextHandler(io.Discard, nil)), clocktesting.NewFakeClock(time.Unix(1_000_000, 0)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; factory.Shutdown() })
	return client
}

func published(client *fake.Clientset, ns string) func() bool {
	return func() bool {
		cm, err := client.CoreV1().ConfigMaps(ns).Get(context.Background(), Name, metav1.GetOptions{})
		return err == nil && len(cm.Data) == 1 && cm.Data[Key] == pem && cm.Annotations[descriptionAnnotation] == description
	}
}

// Every active namespace gets kube-root-ca.crt, and gets it back when it
// is deleted or changed; a terminating namespace gets none.
func TestPublishesRootCA(t *testing.T) {
	client := run(t, namespace("apps", corev1.NamespaceActive), namespace("old", corev1.NamespaceTerminating))
	ctx := context.Background()
	waitFor(t, published(client, "apps"))

	if err := client.CoreV1().ConfigMaps("apps").Delete(ctx, Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, published(client, "apps"))

	cm, _ := client.CoreV1().ConfigMaps("apps").Get(ctx, Name, metav1.GetOptions{})
	cm.Data = map[string]string{Key: "forged", "extra": "x"}
	if _, err := client.CoreV1().ConfigMaps("apps").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, published(client, "apps"))

	if _, err := client.CoreV1().Namespaces().Create(ctx, namespace("new", corev1.NamespaceActive), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, published(client, "new"))
	if _, err := client.CoreV1().ConfigMaps("old").Get(ctx, Name, metav1.GetOptions{}); err == nil {
		t.Error("terminating namespace got the root CA ConfigMap")
	}
}

// Other ConfigMaps are not touched, and an empty bundle is refused.
func TestLeavesOtherConfigMapsAlone(t *testing.T) {
	other := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "apps"}, Data: map[string]string{"k": "v"}}
	client := run(t, namespace("apps", corev1.NamespaceActive), other)
	waitFor(t, published(client, "apps"))
	got, err := client.CoreV1().ConfigMaps("apps").Get(context.Background(), "app", metav1.GetOptions{})
	if err != nil || len(got.Data) != 1 || got.Data["k"] != "v" {
		t.Errorf("other configmap changed: %v %v", got, err)
	}
	factory := informers.NewSharedInformerFactory(client, 0)
	if _, err := New(client, factory, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), clocktesting.NewFakeClock(time.Now())); err == nil {
		t.Error("New accepted an empty CA bundle")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil }); err != nil {
		t.Fatal("timed out")
	}
}
