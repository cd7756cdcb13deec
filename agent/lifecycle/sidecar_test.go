package lifecycle

import (
	"reflect"
	"testing"
)

func TestPlanInit(t *testing.T) {
	regular := func(s InitState, code int32) InitStatus { return InitStatus{State: s, ExitCode: code} }
	sidecar := func(s InitState, started bool) InitStatus {
		return InitStatus{Sidecar: true, State: s, Started: started}
	}
	done := regular(InitExited, 0)
	up := sidecar(InitRunning, true)
	failedProbe := InitStatus{Sidecar: true, State: InitRunning, Started: true, ProbeFailed: true}
	for _, tc := range []struct {
		name        string
		inits       []InitStatus
		appsStarted bool
		want        InitPlan
	}{
		{name: "none", want: InitPlan{Initialized: true, Failed: -1}},
		{name: "first starts", inits: []InitStatus{regular(InitAbsent, 0), sidecar(InitAbsent, false)},
			want: InitPlan{Start: []int{0}, Failed: -1}},
		{name: "a running regular one blocks the next", inits: []InitStatus{regular(InitRunning, 0), sidecar(InitAbsent, false)},
			want: InitPlan{Failed: -1}},
		{name: "after a success, the next", inits: []InitStatus{done, sidecar(InitAbsent, false), regular(InitAbsent, 0)},
			want: InitPlan{Start: []int{1}, Failed: -1}},
		{name: "a sidecar not started yet gates the next", inits: []InitStatus{done, sidecar(InitRunning, false), regular(InitAbsent, 0)},
			want: InitPlan{Failed: -1}},
		{name: "a started sidecar lets the next start", inits: []InitStatus{done, up, regular(InitAbsent, 0)},
			want: InitPlan{Start: []int{2}, Failed: -1}},
		{name: "all done, sidecars started: initialized", inits: []InitStatus{done, up, done, up},
			want: InitPlan{Initialized: true, Failed: -1}},
		{name: "a failed regular one is restarted", inits: []InitStatus{up, regular(InitExited, 3), regular(InitAbsent, 0)},
			want: InitPlan{Start: []int{1}, Failed: 1}},
		{name: "a created one is started", inits: []InitStatus{regular(InitCreated, 0)},
			want: InitPlan{Start: []int{0}, Failed: -1}},
		{name: "an exited sidecar is restarted before anything after it", inits: []InitStatus{sidecar(InitExited, false), regular(InitAbsent, 0)},
			want: InitPlan{Start: []int{0}, Failed: -1}},
		{name: "a sidecar failing its probe: killed and started again", inits: []InitStatus{failedProbe, regular(InitAbsent, 0)},
			want: InitPlan{Kill: []int{0}, Start: []int{0}, Failed: -1}},
		{name: "initialized: regular ones are not run again", appsStarted: true,
			inits: []InitStatus{regular(InitAbsent, 0), up, regular(InitExited, 1)},
			want:  InitPlan{Initialized: true, Failed: -1}},
		{name: "initialized: sidecars are kept running, all at once", appsStarted: true,
			inits: []InitStatus{sidecar(InitExited, false), sidecar(InitRunning, false), failedProbe, sidecar(InitAbsent, false)},
			want:  InitPlan{Kill: []int{2}, Start: []int{0, 2, 3}, Initialized: true, Failed: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := PlanInit(tc.inits, tc.appsStarted); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
