package stats

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(100-i) * time.Millisecond // reversed: percentile must sort
	}
	tests := []struct {
		name    string
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one sample p50", []time.Duration{7}, 50, 7},
		{"one sample p99", []time.Duration{7}, 99, 7},
		{"p50 of 100", hundred, 50, 50 * time.Millisecond},
		{"p99 of 100", hundred, 99, 99 * time.Millisecond},
		{"p100 of 100", hundred, 100, 100 * time.Millisecond},
		{"p1 of 100", hundred, 1, 1 * time.Millisecond},
		{"p50 of 4 is the 2nd", []time.Duration{4, 1, 3, 2}, 50, 2},
		{"p99 of 10 is the max", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 99, 10},
		{"p0 clamps to the min", []time.Duration{3, 1, 2}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.samples, tt.p); got != tt.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.samples, tt.p, got, tt.want)
			}
		})
	}
}

func TestPercentileDoesNotReorderInput(t *testing.T) {
	in := []time.Duration{3, 1, 2}
	Percentile(in, 50)
	if in[0] != 3 || in[1] != 1 || in[2] != 2 {
		t.Errorf("input reordered: %v", in)
	}
}

func TestSummaryRate(t *testing.T) {
	s := Summarize([]time.Duration{1, 2, 3, 4}, 2*time.Second)
	if s.P50 != 2 || s.P99 != 4 || s.Max != 4 {
		t.Errorf("Summary = %+v, want p50 2, p99 4, max 4", s)
	}
	if got := s.Rate(); got != 2 {
		t.Errorf("rate = %v, want 2", got)
	}
	if got := (Summary{N: 3}).Rate(); got != 0 {
		t.Errorf("rate with no wall time = %v, want 0", got)
	}
}

func TestFormats(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Ms(1500 * time.Microsecond), "1.50ms"},
		{WholeMs(1500 * time.Microsecond), "2ms"},
		{Secs(2500 * time.Millisecond), "2.50s"},
		{Ratio(3, 0), "n/a"},
		{Ratio(1, 8), "0.12x"},
		{Ratio(59, 10), "5.9x"},
		{MiB(3 << 19), "1.5 MiB"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
