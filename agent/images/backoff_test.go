package images

import (
	"testing"
	"time"
)

func TestBackoffDoublesToTheMaximum(t *testing.T) {
	b := newBackoff(10*time.Second, 5*time.Minute)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	// Each step: a failure at second fail gives back-off want; then the
	// back-off left at second probe.
	steps := []struct {
		fail        int
		want        time.Duration
		probe       int
		wantLeft    time.Duration
		description string
	}{
		{0, 10 * time.Second, 5, 5 * time.Second, "first failure: 10 s"},
		{10, 20 * time.Second, 25, 5 * time.Second, "second: doubled"},
		{30, 40 * time.Second, 70, 0, "third: 40 s, over at its end"},
		{70, 80 * time.Second, 71, 79 * time.Second, "fourth: 80 s"},
		{150, 160 * time.Second, 150, 160 * time.Second, "fifth: 160 s"},
		{310, 5 * time.Minute, 311, 299 * time.Second, "sixth: capped at 5 min, not 320 s"},
		{610, 5 * time.Minute, 1000, 0, "seventh: stays at the cap"},
		{610 + 601, 10 * time.Second, 610 + 602, 9 * time.Second, "quiet for more than 10 min: starts over"},
	}
	for _, s := range steps {
		if got := b.failed("img", at(s.fail)); got != s.want {
			t.Errorf("%s: back-off %s, want %s", s.description, got, s.want)
		}
		if got := b.remaining("img", at(s.probe)); got != s.wantLeft {
			t.Errorf("%s: left at +%ds %s, want %s", s.description, s.probe, got, s.wantLeft)
		}
	}
	if got := b.remaining("other", t0); got != 0 {
		t.Errorf("an image that never failed is in back-off: %s", got)
	}
	b.succeeded("img")
	if got := b.failed("img", at(1300)); got != 10*time.Second {
		t.Errorf("after a success the back-off starts over: %s", got)
	}
}

func TestBackoffForgetsOldFailures(t *testing.T) {
	b := newBackoff(10*time.Second, 5*time.Minute)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.failed("old", t0)
	b.failed("recent", t0.Add(9*time.Minute))
	b.gc(t0.Add(11 * time.Minute))
	if _, ok := b.images["old"]; ok {
		t.Error("a failure quiet for over twice the maximum is kept")
	}
	if _, ok := b.images["recent"]; !ok {
		t.Error("a recent failure is forgotten")
	}
}
