package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// percentile returns the p-th percentile (0 < p <= 100) of samples by the
// nearest-rank method: the smallest sample that at least p% of the samples
// are less than or equal to. It returns 0 for no samples. samples need not be
// sorted and are not modified.
func percentile(samples []time.Duration, p float64) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	return sorted[nearestRank(len(sorted), p)]
}

// nearestRank is the 0-based index of the p-th percentile in n sorted samples.
func nearestRank(n int, p float64) int {
	rank := int(math.Ceil(float64(n) * p / 100))
	return min(max(rank, 1), n) - 1
}

// summary is what one measured operation gives: its latency percentiles and
// how long the whole run took.
type summary struct {
	N    int           // operations measured
	P50  time.Duration // median latency
	P99  time.Duration // 99th percentile latency
	Max  time.Duration // slowest operation
	Wall time.Duration // wall time of the whole run
}

// summarize computes a summary of samples taken over wall.
func summarize(samples []time.Duration, wall time.Duration) summary {
	return summary{N: len(samples), P50: percentile(samples, 50), P99: percentile(samples, 99),
		Max: percentile(samples, 100), Wall: wall}
}

// rate is operations per second over the wall time.
func (s summary) rate() float64 {
	if s.Wall <= 0 {
		return 0
	}
	return float64(s.N) / s.Wall.Seconds()
}

// ms formats a duration in milliseconds with two decimals.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

// secs formats a duration in seconds with two decimals.
func secs(d time.Duration) string {
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// ratio formats a/b as "5.9x" (two decimals below 1: "0.12x"), or "n/a"
// when b is zero.
func ratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	if r := a / b; r < 1 {
		return fmt.Sprintf("%.2fx", r)
	}
	return fmt.Sprintf("%.1fx", a/b)
}

// mib formats a byte count in MiB.
func mib(b uint64) string {
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}
