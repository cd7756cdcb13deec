package serviceaccount

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"
)

// Active namespaces get (and get back) a default service account; a
// terminating one does not.
func TestDefaultServiceAccounts(t *testing.T) {
	active := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apps"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
	going := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "old"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}}
	client := fake.NewClientset(active, going)
	factory := informers.NewSharedInformerFactory(client, 0)
	c := New(client, factory, slog.New(slog.NewTextHandler(io.Discard, nil)), clocktesting.NewFakeClock(time.Unix(1_000_000, 0)))
	ctx, cancel := context.WithCancel(context.Background())
	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; factory.Shutdown() })

	has := func() bool {
		_, err := client.CoreV1().ServiceAccounts("apps").Get(ctx, Default, metav1.GetOptions{})
		return err == nil
	}
	waitFor(t, has)
	if err := client.CoreV1().ServiceAccounts("apps").Delete(ctx, Default, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, has)
	if l, _ := client.CoreV1().ServiceAccounts("old").List(ctx, metav1.ListOptions{}); len(l.Items) != 0 {
		t.Errorf("terminating namespace got %d service accounts", len(l.Items))
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil }); err != nil {
		t.Fatal("timed out")
	}
}
