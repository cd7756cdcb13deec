package pleg

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/cri/fake"
)

func TestDiff(t *testing.T) {
	before := map[string]string{"c1": "Running", "c2": "Running", "gone": "Exited"}
	after := map[string]string{"c1": "Running", "c2": "Exited", "new": "Created"}
	owners := map[string]string{"c1": "pod-a", "c2": "pod-b", "new": "pod-c", "gone": "pod-d"}
	got := diff(before, after, owners)
	want := map[string]bool{"pod-b": true, "pod-c": true, "pod-d": true}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("changed pods %v, want %v", got, want)
	}
}

type relists struct{ starts []time.Time }

func (r *relists) ObserveRelist(start time.Time, took time.Duration) {
	if took < 0 {
		panic("negative relist duration")
	}
	r.starts = append(r.starts, start)
}

// TestRelistIsObserved: every relist, failed or not, is reported with its
// start.
func TestRelistIsObserved(t *testing.T) {
	rt := fake.New()
	obs := &relists{}
	p := New(rt, func(string) {}, time.Minute, obs, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t0 := time.Unix(1_800_000_000, 0)
	p.now = func() time.Time { return t0 }
	p.Relist(context.Background())
	rt.FailNext("ListContainers", errors.New("containerd is restarting"))
	p.Relist(context.Background())
	if len(obs.starts) != 2 || !obs.starts[0].Equal(t0) {
		t.Fatalf("relists observed: %v", obs.starts)
	}
}
