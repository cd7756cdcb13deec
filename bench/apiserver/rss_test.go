package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

func TestSummarizeRSS(t *testing.T) {
	sample := func(a, e uint64) []procRSS { return []procRSS{{"kube-apiserver", a}, {"etcd", e}} }
	w := summarizeRSS([][]procRSS{sample(600, 100), sample(500, 90), sample(900, 80), sample(550, 120)})
	if w.n != 4 || w.min != 590 || w.max != 980 || w.median != 670 {
		t.Errorf("got n %d min %d max %d median %d, want 4 590 980 670", w.n, w.min, w.max, w.median)
	}
	want := []procRSS{{"kube-apiserver", 550}, {"etcd", 90}}
	if len(w.parts) != 2 || w.parts[0] != want[0] || w.parts[1] != want[1] {
		t.Errorf("parts %+v, want %+v", w.parts, want)
	}
	if got := summarizeRSS(nil); got.n != 0 {
		t.Errorf("no samples: %+v", got)
	}
}

func TestRSSWindowText(t *testing.T) {
	w := summarizeRSS([][]procRSS{{{"kube-apiserver", 2 << 20}, {"etcd", 1 << 20}}, {{"kube-apiserver", 4 << 20}, {"etcd", 1 << 20}}})
	if got, want := w.spread(), "min 3.0 MiB, max 5.0 MiB"; got != want {
		t.Errorf("spread %q, want %q", got, want)
	}
	if got, want := w.split(), "kube-apiserver 2.0 MiB + etcd 1.0 MiB"; got != want {
		t.Errorf("split %q, want %q", got, want)
	}
}

// fakeTarget counts RSS readings, failing from the failAt-th on (0: never).
type fakeTarget struct{ reads, failAt int }

func (f *fakeTarget) name() string                      { return "fake" }
func (f *fakeTarget) restConfig() (*rest.Config, error) { return nil, errors.New("none") }
func (f *fakeTarget) stop() error                       { return nil }
func (f *fakeTarget) rss() ([]procRSS, error) {
	f.reads++
	if f.failAt > 0 && f.reads >= f.failAt {
		return nil, errors.New("process gone")
	}
	return []procRSS{{"fake", uint64(f.reads)}}, nil
}

func TestSampleRSS(t *testing.T) {
	f := &fakeTarget{}
	w, err := sampleRSS(context.Background(), f, 0)
	if err != nil || w.n != 1 || f.reads != 1 {
		t.Errorf("a zero window: %+v %v after %d reads, want one reading", w, err, f.reads)
	}
	f = &fakeTarget{}
	start := time.Now()
	w, err = sampleRSS(context.Background(), f, 3*rssEvery)
	if err != nil || w.n < 2 || time.Since(start) < 3*rssEvery {
		t.Errorf("a window of 3 intervals: %+v %v after %s, want readings at its start and end", w, err, time.Since(start))
	}
	if _, err := sampleRSS(context.Background(), &fakeTarget{failAt: 2}, time.Minute); err == nil {
		t.Error("a failed reading was not returned")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sampleRSS(ctx, &fakeTarget{}, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled context: %v", err)
	}
}
