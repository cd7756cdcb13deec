package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// percentile returns the p-th percentile (0 < p <= 100) of samples by the
// nearest-rank method, or 0 for no samples. samples are not modified.
func percentile(samples []time.Duration, p float64) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	rank := int(math.Ceil(float64(len(sorted)) * p / 100))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// summary is the latency percentiles of one measured phase.
type summary struct {
	N             int
	P50, P99, Max time.Duration
	Wall          time.Duration // the whole phase
}

func summarize(samples []time.Duration, wall time.Duration) summary {
	return summary{N: len(samples), P50: percentile(samples, 50), P99: percentile(samples, 99),
		Max: percentile(samples, 100), Wall: wall}
}

// ms formats a duration in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond)) }

// mib formats a byte count in MiB.
func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
