// Package stats is what the benchmarks share: percentiles and formatting.
package stats

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Percentile returns the p-th percentile (0 < p <= 100) of samples by the
// nearest-rank method: the smallest sample that at least p% of the samples
// are less than or equal to. It returns 0 for no samples. samples need not be
// sorted and are not modified.
func Percentile(samples []time.Duration, p float64) time.Duration {
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

// Summary is what one measured operation gives: its latency percentiles and
// how long the whole run took.
type Summary struct {
	N    int           // operations measured
	P50  time.Duration // median latency
	P99  time.Duration // 99th percentile latency
	Max  time.Duration // slowest operation
	Wall time.Duration // wall time of the whole run
}

// Summarize computes a summary of samples taken over wall.
func Summarize(samples []time.Duration, wall time.Duration) Summary {
	return Summary{N: len(samples), P50: Percentile(samples, 50), P99: Percentile(samples, 99),
		Max: Percentile(samples, 100), Wall: wall}
}

// Rate is operations per second over the wall time.
func (s Summary) Rate() float64 {
	if s.Wall <= 0 {
		return 0
	}
	return float64(s.N) / s.Wall.Seconds()
}

// Ms formats a duration in milliseconds with two decimals.
func Ms(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

// Secs formats a duration in seconds with two decimals.
func Secs(d time.Duration) string {
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// Ratio formats a/b as "5.9x" (two decimals below 1: "0.12x"), or "n/a"
// when b is zero.
func Ratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	if r := a / b; r < 1 {
		return fmt.Sprintf("%.2fx", r)
	}
	return fmt.Sprintf("%.1fx", a/b)
}

// MiB formats a byte count in MiB.
func MiB(b uint64) string {
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

// WholeMs formats a duration in whole milliseconds.
func WholeMs(d time.Duration) string {
	return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond))
}
