package storage

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/watch"
)

// A watch with bookmarks gets BOOKMARK events that carry the current
// revision, also when only keys outside the watch changed (client-go's
// reflector resumes from them).
func TestWatchSendsBookmarks(t *testing.T) {
	s, ctx := testStore(t), context.Background()
	created, err := s.Create(ctx, "ns", "a", cm("ns", "a", nil))
	if err != nil {
		t.Fatal(err)
	}
	limits := WatchLimits{BookmarkInterval: 50 * time.Millisecond}
	w, err := s.Watch(ctx, "ns", WatchOptions{Revision: mustRV(t, created), Bookmarks: true}, limits)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	other := NewStore(backend.Client, uniquePrefix(t, "other-"), newCM)
	elsewhere, err := other.Create(ctx, "ns", "b", cm("ns", "b", nil))
	if err != nil {
		t.Fatal(err)
	}
	want := mustRV(t, elsewhere)
	deadline := time.Now().Add(10 * time.Second)
	for {
		e := next(t, w)
		if e.Type != watch.Bookmark {
			t.Fatalf("want only bookmarks, got %s", eventString(e))
		}
		if rv := mustRV(t, e.Object); rv >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no bookmark at revision %d or later within 10s", want)
		}
	}
}
