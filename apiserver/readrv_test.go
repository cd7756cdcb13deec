package apiserver

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// A read at a resourceVersion beyond etcd's current revision is kube's 504
// "Too large resource version" with a ResourceVersionTooLarge cause (not a
// 500, and not a silently older answer); an exact read at a current or past
// revision still works.
func TestFutureResourceVersionIs504(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	cms := ts.admin(t).CoreV1().ConfigMaps("default")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm"}}
	created, err := cms.Create(bg, cm, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rv, _ := strconv.ParseInt(created.ResourceVersion, 10, 64)
	future := strconv.FormatInt(rv+1000, 10)
	cases := []struct {
		name string
		call func() error
	}{
		{"list Exact", func() error {
			_, err := cms.List(bg, metav1.ListOptions{ResourceVersion: future, ResourceVersionMatch: metav1.ResourceVersionMatchExact})
			return err
		}},
		{"list NotOlderThan", func() error {
			_, err := cms.List(bg, metav1.ListOptions{ResourceVersion: future, ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan})
			return err
		}},
		{"paged list", func() error {
			_, err := cms.List(bg, metav1.ListOptions{ResourceVersion: future, Limit: 10})
			return err
		}},
		{"get", func() error {
			_, err := cms.Get(bg, "cm", metav1.GetOptions{ResourceVersion: future})
			return err
		}},
	}
	for _, tc := range cases {
		err := tc.call()
		se, ok := err.(*apierrors.StatusError)
		if !ok || se.ErrStatus.Code != http.StatusGatewayTimeout || se.ErrStatus.Reason != metav1.StatusReasonTimeout ||
			!strings.HasPrefix(se.ErrStatus.Message, fmt.Sprintf("Timeout: Too large resource version: %s, current: ", future)) ||
			!apierrors.HasStatusCause(err, metav1.CauseTypeResourceVersionTooLarge) {
			t.Errorf("%s: %#v, want 504 Too large resource version", tc.name, err)
		}
	}
	if list, err := cms.List(bg, metav1.ListOptions{ResourceVersion: created.ResourceVersion, ResourceVersionMatch: metav1.ResourceVersionMatchExact}); err != nil || len(list.Items) != 1 {
		t.Fatalf("exact list at the create's revision: %v", err)
	}
	if _, err := cms.Get(bg, "cm", metav1.GetOptions{ResourceVersion: created.ResourceVersion}); err != nil {
		t.Fatalf("get not older than the create: %v", err)
	}
}

// client-go gets BOOKMARK events on a watch that allows them.
func TestWatchBookmarksOverHTTP(t *testing.T) {
	ts := startServerWith(t, t.TempDir(), 0, func(c *Config) { c.Watch.BookmarkInterval = 100 * time.Millisecond })
	cms := ts.admin(t).CoreV1().ConfigMaps("default")
	list, err := cms.List(bg, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := cms.Watch(bg, metav1.ListOptions{ResourceVersion: list.ResourceVersion, AllowWatchBookmarks: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	select {
	case ev := <-w.ResultChan():
		if ev.Type != watch.Bookmark {
			t.Fatalf("got %s, want BOOKMARK", ev.Type)
		}
		if m, err := metaRV(ev.Object); err != nil || m == "" {
			t.Fatalf("bookmark without a resourceVersion: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no BOOKMARK within 10s")
	}
}

func metaRV(obj any) (string, error) {
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok {
		return "", fmt.Errorf("bookmark object %T", obj)
	}
	return cm.ResourceVersion, nil
}
