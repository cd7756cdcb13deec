package prober

import (
	"context"
	"testing"
)

func TestProbeFailure(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if _, failed := h.m.ProbeFailure("c1"); failed {
		t.Fatal("a failure with no results")
	}
	h.m.results.Set(ctx, Readiness, "c1", "uid", Failure)
	h.m.results.Set(ctx, Startup, "c1", "uid", Unknown)
	if _, failed := h.m.ProbeFailure("c1"); failed {
		t.Fatal("readiness failures and an unknown startup do not kill")
	}
	h.m.results.Set(ctx, Startup, "c1", "uid", Failure)
	if k, failed := h.m.ProbeFailure("c1"); !failed || k != Startup {
		t.Fatalf("%v %v, want a startup failure", k, failed)
	}
	h.m.results.Set(ctx, Liveness, "c1", "uid", Failure)
	if k, _ := h.m.ProbeFailure("c1"); k != Liveness {
		t.Fatalf("%v, want liveness first", k)
	}
}

func TestKillMessage(t *testing.T) {
	for _, tc := range []struct {
		kind             Kind
		sidecar, restart bool
		want             string
	}{
		{Liveness, false, true, "Container app failed liveness probe, will be restarted"},
		{Startup, false, false, "Container app failed startup probe"},
		{Startup, true, true, "Init container app failed startup probe, will be restarted"},
	} {
		if got := KillMessage("app", tc.kind, tc.sidecar, tc.restart); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
