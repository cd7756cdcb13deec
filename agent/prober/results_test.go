package prober

import (
	"context"
	"testing"
)

func TestResultsPublishChangesOnly(t *testing.T) {
	r := NewResults(10)
	ctx := context.Background()
	if _, ok := r.Get(Readiness, "c1"); ok {
		t.Fatal("a result before any Set")
	}
	r.Set(ctx, Readiness, "c1", "uid", Failure)
	r.Set(ctx, Readiness, "c1", "uid", Failure) // no change: no update
	r.Set(ctx, Liveness, "c1", "uid", Success)  // another kind: its own result
	r.Set(ctx, Readiness, "c1", "uid", Success)
	want := []Update{
		{"uid", "c1", Readiness, Failure},
		{"uid", "c1", Liveness, Success},
		{"uid", "c1", Readiness, Success},
	}
	for i, w := range want {
		if got := <-r.Updates(); got != w {
			t.Fatalf("update %d: got %+v, want %+v", i, got, w)
		}
	}
	select {
	case u := <-r.Updates():
		t.Fatalf("unexpected update %+v", u)
	default:
	}
	if res, _ := r.Get(Readiness, "c1"); res != Success {
		t.Fatalf("readiness %v, want Success", res)
	}
	r.Remove(Readiness, "c1")
	if _, ok := r.Get(Readiness, "c1"); ok {
		t.Fatal("a result after Remove")
	}
	if res, ok := r.Get(Liveness, "c1"); !ok || res != Success {
		t.Fatal("Remove of one kind removed another")
	}
}

func TestResultsSetGivesUpWhenContextEnds(t *testing.T) {
	r := NewResults(0) // nobody reads: a send would block
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r.Set(ctx, Startup, "c1", "uid", Success) // returns
	if res, ok := r.Get(Startup, "c1"); !ok || res != Success {
		t.Fatal("the result is kept even when its update could not be sent")
	}
}

func TestResultsNameContainersEitherWay(t *testing.T) {
	r := NewResults(10)
	r.Set(context.Background(), Liveness, "containerd://c1", "uid", Failure)
	if u := <-r.Updates(); u.ContainerID != "containerd://c1" {
		t.Fatalf("update names %q, not the id as the status shows it", u.ContainerID)
	}
	for _, id := range []string{"c1", "containerd://c1"} {
		if res, ok := r.Get(Liveness, id); !ok || res != Failure {
			t.Fatalf("Get(%q) = %v, %v", id, res, ok)
		}
	}
	r.Remove(Liveness, "c1")
	if _, ok := r.Get(Liveness, "containerd://c1"); ok {
		t.Fatal("Remove by the runtime's id left the result")
	}
}
