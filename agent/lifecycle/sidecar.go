package lifecycle

// InitState is where an init container's newest instance in the pod's
// current sandbox is.
type InitState uint8

const (
	InitAbsent  InitState = iota // no instance in this sandbox
	InitCreated                  // created, never started
	InitRunning
	InitExited
)

// InitStatus is one init container as PlanInit sees it.
type InitStatus struct {
	// Sidecar: restartPolicy Always (a restartable init container).
	Sidecar  bool
	State    InitState
	ExitCode int32 // when InitExited
	// Started: a running sidecar passed its startup probe, or has none.
	Started bool
	// ProbeFailed: a running sidecar failed its startup or liveness probe.
	ProbeFailed bool
}

// InitPlan is what one sync does with the init containers.
type InitPlan struct {
	// Kill are running sidecars to kill, for a failed probe, before they
	// are started again (they are in Start too).
	Kill []int
	// Start are the init containers to start, in spec order. One that ran
	// before is restarted only once its back-off passed: the caller's part.
	Start []int
	// Initialized: every regular init container succeeded and every
	// sidecar has started, so app containers may run.
	Initialized bool
	// Failed is the regular init container that failed (-1: none). It is
	// in Start; under restartPolicy Never the caller fails the pod instead.
	Failed int
}

// PlanInit decides which init containers to start, from their statuses in
// spec order. Before the pod has initialized they run one at a time: each
// regular one must exit 0, each sidecar must have started (its startup
// probe passed) before the next one starts, and app containers wait for
// all of them. Once app containers exist in the sandbox (appsStarted) the
// pod has initialized: regular init containers are not run again, while
// sidecars are kept running: started again when they exit, restarted when
// a probe fails.
func PlanInit(inits []InitStatus, appsStarted bool) InitPlan {
	p := InitPlan{Failed: -1}
	for i, c := range inits {
		if !p.step(i, c, appsStarted) {
			return p
		}
	}
	p.Initialized = true
	return p
}

// step plans init container i; false when the containers after it must
// wait.
func (p *InitPlan) step(i int, c InitStatus, appsStarted bool) bool {
	if !c.Sidecar {
		return appsStarted || p.regular(i, c)
	}
	switch {
	case c.State != InitRunning:
		p.Start = append(p.Start, i)
		return appsStarted
	case c.ProbeFailed:
		p.Kill = append(p.Kill, i)
		p.Start = append(p.Start, i)
		return appsStarted
	}
	return appsStarted || c.Started
}

// regular plans a regular init container before initialization: true once
// it has succeeded.
func (p *InitPlan) regular(i int, c InitStatus) bool {
	switch c.State {
	case InitAbsent, InitCreated:
		p.Start = append(p.Start, i)
	case InitExited:
		if c.ExitCode == 0 {
			return true
		}
		p.Failed = i
		p.Start = append(p.Start, i)
	}
	return false // running: wait for it
}
