package eviction

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestParseThresholdsDefaults(t *testing.T) {
	ts := mustThresholds(t, DefaultEvictionHard(), nil, nil, nil)
	got := map[Signal]string{}
	for _, th := range ts {
		if !th.IsHard() {
			t.Errorf("%s: soft, want hard", th.Signal)
		}
		got[th.Signal] = th.Value.String()
	}
	want := map[Signal]string{SignalMemoryAvailable: "100Mi", SignalAllocatableMemoryAvailable: "100Mi", SignalNodeFsAvailable: "10%",
		SignalNodeFsInodesFree: "5%", SignalImageFsAvailable: "15%", SignalImageFsInodesFree: "5%"}
	if len(got) != len(want) {
		t.Fatalf("thresholds %v, want %v", got, want)
	}
	for s, v := range want {
		if got[s] != v {
			t.Errorf("%s: %q, want %q", s, got[s], v)
		}
	}
}

func TestParseThresholdsSoftAndReclaim(t *testing.T) {
	ts := mustThresholds(t, map[string]string{"nodefs.available": "0%"}, map[string]string{"memory.available": "1Gi"},
		map[string]string{"memory.available": "1m30s"}, map[string]string{"memory.available": "200Mi"})
	if len(ts) != 1 {
		t.Fatalf("thresholds %+v, want only the soft memory one (0%% is none, a soft one has no allocatable twin)", ts)
	}
	th := ts[0]
	if th.GracePeriod != 90*time.Second || th.Value.String() != "1Gi" || th.MinReclaim == nil || th.MinReclaim.String() != "200Mi" {
		t.Errorf("threshold %+v, want 1Gi for 1m30s, reclaiming 200Mi", th)
	}
}

func TestParseThresholdsErrors(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		hard, soft, grace, reclim map[string]string
		want                      string
	}{
		{name: "unknown signal", hard: map[string]string{"memory.free": "1Gi"}, want: "unsupported eviction signal memory.free"},
		{name: "negative", hard: map[string]string{"memory.available": "-1Gi"}, want: "eviction threshold memory.available must be positive: -1Gi"},
		{name: "zero", hard: map[string]string{"memory.available": "0"}, want: "must be positive"},
		{name: "over 100%", hard: map[string]string{"nodefs.available": "150%"}, want: "eviction percentage threshold nodefs.available must be <= 100%: 150%"},
		{name: "not a quantity", hard: map[string]string{"memory.available": "lots"}, want: "quantities must match"},
		{name: "soft without grace", soft: map[string]string{"memory.available": "1Gi"}, want: "grace period must be specified for the soft eviction threshold memory.available"},
		{name: "negative grace", soft: map[string]string{"memory.available": "1Gi"}, grace: map[string]string{"memory.available": "-1s"},
			want: "invalid eviction grace period specified: -1s, must be a positive value"},
		{name: "grace of unknown", grace: map[string]string{"disk": "1s"}, want: "unsupported eviction signal disk"},
		{name: "negative reclaim", reclim: map[string]string{"memory.available": "-1Mi"}, want: "negative eviction minimum reclaim specified for memory.available"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseThresholds(tc.hard, tc.soft, tc.grace, tc.reclim)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestThresholdsMetPercentageAndMinReclaim(t *testing.T) {
	ts := mustThresholds(t, map[string]string{"nodefs.available": "10%"}, nil, nil, map[string]string{"nodefs.available": "5%"})
	obs := func(avail int64) observations {
		return observations{SignalNodeFsAvailable: bytesObservation(uint64(avail), 1000)}
	}
	for _, tc := range []struct {
		avail   int64
		reclaim bool
		met     bool
	}{{99, false, true}, {100, false, false}, {120, false, false}, {120, true, true}, {150, true, false}} {
		if got := len(thresholdsMet(ts, obs(tc.avail), tc.reclaim)) == 1; got != tc.met {
			t.Errorf("available 100%%-of-1000 %d (min reclaim %v): met %v, want %v", tc.avail, tc.reclaim, got, tc.met)
		}
	}
}

func TestHardReservation(t *testing.T) {
	ts := mustThresholds(t, DefaultEvictionHard(), map[string]string{"memory.available": "1Gi"}, map[string]string{"memory.available": "1m"}, nil)
	got := HardReservation(ts, res("memory", "8Gi", "ephemeral-storage", "100Gi", "cpu", "2"))
	if m, e := got[corev1.ResourceMemory], got[corev1.ResourceEphemeralStorage]; len(got) != 2 || m.String() != "100Mi" || e.String() != "10Gi" {
		t.Errorf("reservation %v, want memory 100Mi (the hard threshold, not the soft) and ephemeral-storage 10Gi", got)
	}
}
