package gc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/cri/fake"
)

const mib = 1 << 20

// images adds n images of 1 MiB, "img-00" ...
func (e *env) images(n int) {
	for i := 0; i < n; i++ {
		e.rt.AddImage(fmt.Sprintf("img-%02d", i))
	}
}

func (e *env) imageRefs() string {
	imgs, err := e.rt.ListImages(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	var refs []string
	for _, img := range imgs {
		refs = append(refs, img.Refs...)
	}
	return strings.Join(sortedCopy(refs), " ")
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func (e *env) usage() int {
	fs, err := e.rt.ImageFsInfo(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return fs.UsagePercent()
}

// Over the high threshold, unused images go, never used first, until the
// filesystem is at the low threshold; the images containers use, running
// or not, stay; images seen for less than the minimum age stay.
func TestImageGCFreesDownToTheLowThreshold(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	e.rt.SetImageFs(100*mib, 50*mib)
	sb := e.sandbox("a")
	e.run(sb, "a", "running", "img-30", 0, false)
	e.run(sb, "a", "exited", "img-31", 0, true)
	e.images(40) // img-00 ... img-39: 90 % full
	if u := e.usage(); u != 90 {
		t.Fatalf("usage %d %%, want 90", u)
	}
	// Every image was first seen just now: none is old enough.
	_, st, err := e.m.GarbageCollect(e.ctx)
	if !errors.Is(err, ErrNotEnoughFreed) || st.Removed != 0 || st.BytesToFree != 10*mib {
		t.Fatalf("first pass: %+v, %v; want nothing removed and ErrNotEnoughFreed", st, err)
	}
	if ev := e.events.list(); len(ev) != 0 {
		t.Errorf("GarbageCollect on demand recorded %v", ev)
	}
	e.clock.Step(2 * time.Minute)
	_, st, err = e.m.GarbageCollect(e.ctx)
	if err != nil || st.Removed != 10 || st.Freed != 10*mib || e.usage() != 80 {
		t.Fatalf("second pass: %+v, %v, usage %d %%; want 10 removed, 80 %%", st, err, e.usage())
	}
	refs := e.imageRefs()
	for _, used := range []string{"img-30", "img-31"} {
		if !strings.Contains(refs, used) {
			t.Errorf("image %s, which a container uses, was removed", used)
		}
	}
	// Below the high threshold nothing goes.
	e.rt.SetImageFs(100*mib, 50*mib+4*mib)
	if _, st, err := e.m.GarbageCollect(e.ctx); err != nil || st.Removed != 0 {
		t.Errorf("at 84 %%: %+v, %v", st, err)
	}
}

// The least recently used image goes first: never used, then used long
// ago, then used lately.
func TestImageGCLeastRecentlyUsedFirst(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ImageMinimumGCAge = 0
	e := newEnv(t, cfg)
	e.rt.SetImageFs(10*mib, 0)
	sb := e.sandbox("a")
	e.images(3)
	early := e.run(sb, "a", "c", "used-early", 0, true)
	late := e.run(sb, "a", "d", "used-late", 0, true)
	e.m.GarbageCollect(e.ctx) // both seen in use
	e.rt.RemoveContainer(e.ctx, early.ID)
	e.clock.Step(time.Minute)
	e.m.GarbageCollect(e.ctx) // used-late seen in use again
	e.rt.RemoveContainer(e.ctx, late.ID)
	e.clock.Step(time.Minute)
	var order []string
	for i := 0; i < 5; i++ {
		before := e.imageRefs()
		if _, err := e.m.DeleteUnusedImages(e.ctx, 1); err != nil {
			t.Fatal(err)
		}
		after := " " + e.imageRefs() + " "
		for _, ref := range strings.Fields(before) {
			if !strings.Contains(after, " "+ref+" ") {
				order = append(order, ref)
			}
		}
	}
	if len(order) != 5 {
		t.Fatalf("removal order %q, want five images one by one", order)
	}
	// The three never used were first detected together: any order.
	got := strings.Join(append(sortedCopy(order[:3]), order[3:]...), " ")
	if want := "img-00 img-01 img-02 used-early used-late"; got != want {
		t.Errorf("removal order %q, want %q (the first three in any order)", strings.Join(order, " "), want)
	}
}

// DeleteUnusedImages removes what is unused until the bytes are freed, or
// all of it for a negative count, minimum age still kept.
func TestDeleteUnusedImages(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	e.rt.SetImageFs(100*mib, 0)
	sb := e.sandbox("a")
	e.run(sb, "a", "c", "in-use", 0, false)
	e.images(5)
	e.m.GarbageCollect(e.ctx) // first seen now
	e.clock.Step(3 * time.Minute)
	e.rt.AddImage("young")
	freed, err := e.m.DeleteUnusedImages(e.ctx, 2*mib)
	left := e.imageRefs()
	if err != nil || freed != 2*mib || strings.Count(left, "img-") != 3 || !strings.HasSuffix(left, " in-use young") {
		t.Fatalf("freed %d, %v, left %q; want two of img-00...img-04 gone", freed, err, left)
	}
	freed, err = e.m.DeleteUnusedImages(e.ctx, -1)
	if err != nil || freed != 3*mib || e.imageRefs() != "in-use young" {
		t.Fatalf("freed %d, %v, left %q", freed, err, e.imageRefs())
	}
}

// The periodic collection records kubelet's events: FreeDiskSpaceFailed
// when it could not free enough, ImageGCFailed when it fails again.
func TestRunRecordsImageGCFailures(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	e.rt.SetImageFs(10*mib, 9*mib) // full of something else
	e.images(1)
	failures := e.m.collectImages(e.ctx, 0)
	failures = e.m.collectImages(e.ctx, failures)
	ev := e.events.list()
	if failures != 2 || len(ev) != 3 || !strings.HasPrefix(ev[0], "Warning FreeDiskSpaceFailed: failed to garbage collect required amount of images") ||
		!strings.HasPrefix(ev[2], "Warning ImageGCFailed: ") {
		t.Errorf("failures %d, events %q", failures, ev)
	}
	e.rt.FailNext("ImageFsInfo", errors.New("boom"))
	if e.m.collectImages(e.ctx, 0) != 1 {
		t.Error("a failing ImageFsInfo is no failure")
	}
	_ = fake.ImageSize
}

// A high threshold of 100 % turns the periodic image collection off, as
// in kubelet; at 85 % the same full filesystem is collected.
func TestRunImageGCOffAtHighThreshold100(t *testing.T) {
	for _, high := range []int{100, 85} {
		cfg := DefaultConfig()
		cfg.ImageGCHighThresholdPercent, cfg.ImageMinimumGCAge = high, 0
		e := newEnv(t, cfg)
		e.rt.SetImageFs(4*mib, 0)
		e.images(4) // 100 % full
		ctx, cancel := context.WithCancel(e.ctx)
		cancel()
		e.m.Run(ctx) // the first passes, then it sees ctx done
		if left := strings.Count(e.imageRefs(), "img-"); (left == 4) != (high == 100) {
			t.Errorf("high threshold %d: %d images left of 4", high, left)
		}
	}
}

// spammer is a runtime on whose image filesystem something else writes
// 1 MiB while each image is removed (a container's log, say).
type spammer struct {
	*fake.Fake
	other uint64
}

func (s *spammer) RemoveImage(ctx context.Context, ref string) error {
	s.other += mib
	s.SetImageFs(100*mib, s.other)
	return s.Fake.RemoveImage(ctx, ref)
}

// Another writer on the filesystem does not make the collection remove
// every image: what the images no longer take counts as freed.
func TestImageGCWithAnotherWriter(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	rt := &spammer{Fake: e.rt, other: 70 * mib}
	rt.SetImageFs(100*mib, rt.other)
	e.images(20) // 90 % full: 10 MiB to free
	m, err := New(DefaultConfig(), Deps{Runtime: rt, Pods: e.pods, Clock: e.clock, Log: e.m.log})
	if err != nil {
		t.Fatal(err)
	}
	m.GarbageCollect(e.ctx)
	e.clock.Step(3 * time.Minute)
	_, st, err := m.GarbageCollect(e.ctx)
	if err != nil || st.Removed != 10 || st.Freed != 10*mib || strings.Count(e.imageRefs(), "img-") != 10 {
		t.Errorf("removed %d, freed %d, %v, left %q: want 10 images removed, 10 MiB", st.Removed, st.Freed, err, e.imageRefs())
	}
}
