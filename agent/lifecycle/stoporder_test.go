package lifecycle

import (
	"context"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	clocktesting "k8s.io/utils/clock/testing"
)

// sidecarPod: init containers setup (regular), log, proxy (sidecars);
// app containers web, worker.
func sidecarPod() *corev1.Pod {
	always := corev1.ContainerRestartPolicyAlways
	return &corev1.Pod{Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "setup"}, {Name: "log", RestartPolicy: &always}, {Name: "proxy", RestartPolicy: &always}},
		Containers:     []corev1.Container{{Name: "web"}, {Name: "worker"}},
	}}
}

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

func TestStopPrereqs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		running map[string]bool
		want    map[string][]string
	}{
		{name: "all running", running: set("log", "proxy", "web", "worker"), want: map[string][]string{
			"web": nil, "worker": nil, "proxy": {"web", "worker"}, "log": {"web", "worker", "proxy"}}},
		{name: "one app gone, last sidecar gone", running: set("log", "worker"), want: map[string][]string{
			"worker": nil, "log": {"worker"}}},
		{name: "stopped during init", running: set("setup", "log"), want: map[string][]string{
			"setup": nil, "log": nil}},
		{name: "nothing runs", running: set(), want: map[string][]string{}},
	} {
		if got := StopPrereqs(sidecarPod(), tc.running); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestOrderingStopsSidecarsLastInReverse runs one goroutine per container
// as the agent would and records the order of the stops.
func TestOrderingStopsSidecarsLastInReverse(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	o := NewOrdering(sidecarPod(), set("log", "proxy", "web", "worker"), clk)
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	for _, name := range []string{"log", "proxy", "web", "worker"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if waited := o.WaitForTurn(context.Background(), name, 30*time.Second); waited != 0 {
				t.Errorf("%s waited %v on a clock that did not move", name, waited)
			}
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			o.Stopped(name)
		}()
	}
	wg.Wait()
	apps := append([]string(nil), order[:2]...)
	sort.Strings(apps)
	if !reflect.DeepEqual(apps, []string{"web", "worker"}) || !reflect.DeepEqual(order[2:], []string{"proxy", "log"}) {
		t.Fatalf("stop order %v: want the apps, then proxy, then log", order)
	}
}

func TestOrderingWaitsAtMostTheGracePeriod(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	o := NewOrdering(sidecarPod(), set("proxy", "web"), clk)
	got := make(chan time.Duration)
	go func() { got <- o.WaitForTurn(context.Background(), "proxy", 30*time.Second) }()
	waitWaiters(t, clk, 1)
	clk.Step(30 * time.Second) // web never stops
	if d := <-got; d != 30*time.Second {
		t.Fatalf("waited %v, want the whole grace period", d)
	}
	if d := o.WaitForTurn(context.Background(), "proxy", 0); d != 0 {
		t.Fatalf("no grace left: waited %v", d)
	}
	o.Stopped("web")
	o.Stopped("web") // again: no panic
	if d := o.WaitForTurn(context.Background(), "proxy", 30*time.Second); d != 0 {
		t.Fatalf("waited %v for a stopped container", d)
	}
}
