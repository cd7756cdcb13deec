package apiserver

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// Events expire EventTTL after their last write (kube's --event-ttl).
func TestEventsExpire(t *testing.T) {
	ts := startServerWith(t, t.TempDir(), 0, func(c *Config) { c.EventTTL = 2 * time.Second })
	events := ts.admin(t).CoreV1().Events("default")
	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e"}, Reason: "Tested", Message: "m", Type: "Normal",
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "p"}}
	created, err := events.Create(bg, ev, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := events.Watch(bg, metav1.ListOptions{ResourceVersion: created.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	select {
	case e := <-w.ResultChan():
		if e.Type != watch.Deleted {
			t.Fatalf("got %s, want DELETED", e.Type)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the event outlived its 2s TTL by 20s")
	}
}
