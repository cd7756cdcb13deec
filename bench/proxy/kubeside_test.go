package main

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
)

func TestForEachVisitsEveryIndexWithBoundedConcurrency(t *testing.T) {
	var mu sync.Mutex
	seen := map[int]bool{}
	var running, most atomic.Int32
	err := forEach(context.Background(), 5, 105, 4, func(_ context.Context, i int) error {
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		defer running.Add(-1)
		mu.Lock()
		defer mu.Unlock()
		if seen[i] {
			t.Errorf("index %d twice", i)
		}
		seen[i] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 100 || !seen[5] || !seen[104] || seen[105] {
		t.Errorf("visited %d indexes (5: %v, 104: %v, 105: %v), want 5 to 104", len(seen), seen[5], seen[104], seen[105])
	}
	if most.Load() > 4 {
		t.Errorf("%d at once, want at most 4", most.Load())
	}
}

func TestForEachStopsAtTheFirstError(t *testing.T) {
	boom := errors.New("boom")
	var calls atomic.Int32
	// The calls after index 3 wait for the cancel, so the check below does
	// not depend on how the scheduler runs the worker that failed. If no
	// cancel comes, they all stop waiting at one shared deadline.
	deadline, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	err := forEach(context.Background(), 0, 10000, 2, func(ctx context.Context, i int) error {
		calls.Add(1)
		switch {
		case i == 3:
			return boom
		case i > 3:
			select {
			case <-ctx.Done():
			case <-deadline.Done():
			}
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("got %v, want boom", err)
	}
	if calls.Load() > 10 {
		t.Errorf("%d calls after the error, want the rest skipped", calls.Load())
	}
}

func TestBenchSliceBelongsToItsService(t *testing.T) {
	es := benchSlice("svc-7", 7)
	if es.Labels[discoveryv1.LabelServiceName] != "svc-7" || es.AddressType != discoveryv1.AddressTypeIPv4 {
		t.Errorf("labels %v, address type %s", es.Labels, es.AddressType)
	}
	if len(es.Endpoints) != 3 || len(es.Ports) != 1 || *es.Ports[0].Port != 8080 {
		t.Fatalf("endpoints %v, ports %v", es.Endpoints, es.Ports)
	}
	for j, e := range es.Endpoints {
		if e.Addresses[0] != endpointIP(7, j) || !*e.Conditions.Ready {
			t.Errorf("endpoint %d: %v", j, e)
		}
	}
	if svc := benchService("svc-7"); svc.Spec.Ports[0].Port != 80 || svc.Spec.Ports[0].TargetPort.IntVal != 8080 || svc.Spec.ClusterIP != "" {
		t.Errorf("service %+v", svc.Spec)
	}
}
