package job

import (
	"testing"
	"time"
)

func TestIndexSet(t *testing.T) {
	s := parseIndexes("0,2-4,7,x,9-12", 11)
	if got := s.String(); got != "0,2-4,7,9-10" {
		t.Errorf("got %q", got)
	}
	if got := (indexSet{}).String(); got != "" {
		t.Errorf("empty: %q", got)
	}
}

func TestBackoffDoublesToSixMinutes(t *testing.T) {
	now := time.Unix(1000, 0)
	for failures, want := range map[int]time.Duration{0: 0, 1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second,
		6: 320 * time.Second, 7: 6 * time.Minute, 40: 6 * time.Minute} {
		mem := &jobMemory{failures: failures, lastFail: now}
		if got := mem.backoff(now); got != want {
			t.Errorf("%d failures: %v, want %v", failures, got, want)
		}
	}
}
