package main

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/nodeagent/nodeagent/bench/internal/stats"
)

// rssEvery is how often the RSS is sampled within a window.
const rssEvery = 200 * time.Millisecond

// procRSS is one process's resident set size in bytes.
type procRSS struct {
	name  string
	bytes uint64
}

func total(ps []procRSS) uint64 {
	var t uint64
	for _, p := range ps {
		t += p.bytes
	}
	return t
}

// rssWindow is a target's RSS sampled over a window at rest: a single
// reading can catch a Go heap mid-cycle; the median of the readings over
// the window cannot. (Runs still differ from each other: at 10,000 pods our
// server's median was 231 MiB in one run and 315 MiB in the next, each
// within 5 % over its window.)
type rssWindow struct {
	n                int
	min, median, max uint64    // of the totals
	parts            []procRSS // each process's median
}

// summarizeRSS summarises samples, each the target's processes at one
// instant, in the same order every time.
func summarizeRSS(samples [][]procRSS) rssWindow {
	if len(samples) == 0 {
		return rssWindow{}
	}
	totals := make([]uint64, len(samples))
	for i, s := range samples {
		totals[i] = total(s)
	}
	w := rssWindow{n: len(samples), median: median(totals), min: slices.Min(totals), max: slices.Max(totals)}
	for p := range samples[0] {
		own := make([]uint64, len(samples))
		for i, s := range samples {
			own[i] = s[p].bytes
		}
		w.parts = append(w.parts, procRSS{name: samples[0][p].name, bytes: median(own)})
	}
	return w
}

// median is the middle value (the lower of the two middle ones).
func median(v []uint64) uint64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// sampleRSS reads t's RSS at once and then every rssEvery until window has
// passed.
func sampleRSS(ctx context.Context, t target, window time.Duration) (rssWindow, error) {
	tick := time.NewTicker(rssEvery)
	defer tick.Stop()
	end := time.Now().Add(window)
	var samples [][]procRSS
	for {
		s, err := t.rss()
		if err != nil {
			return rssWindow{}, err
		}
		samples = append(samples, s)
		if !time.Now().Before(end) {
			return summarizeRSS(samples), nil
		}
		select {
		case <-ctx.Done():
			return rssWindow{}, ctx.Err()
		case <-tick.C:
		}
	}
}

// spread is the range of the totals: "min 230.1 MiB, max 250.0 MiB".
func (w rssWindow) spread() string {
	return "min " + stats.MiB(w.min) + ", max " + stats.MiB(w.max)
}

// split says how the median divides among the processes:
// "kube-apiserver 600.0 MiB + etcd 80.0 MiB".
func (w rssWindow) split() string {
	parts := make([]string, len(w.parts))
	for i, p := range w.parts {
		parts[i] = p.name + " " + stats.MiB(p.bytes)
	}
	return strings.Join(parts, " + ")
}
