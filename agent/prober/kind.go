package prober

// Kind is a probe's kind: what its result decides.
type Kind uint8

const (
	// Liveness failures restart the container.
	Liveness Kind = iota
	// Readiness decides the container's ready flag (and the pod's Ready
	// condition, so Services' endpoints).
	Readiness
	// Startup gates liveness and readiness until it succeeds once; its
	// failure restarts the container.
	Startup
)

// kinds lists every kind, in the order workers are made.
var kinds = [...]Kind{Startup, Readiness, Liveness}

// String is the kind as kubelet's events name it ("Readiness probe failed").
func (k Kind) String() string {
	switch k {
	case Liveness:
		return "Liveness"
	case Readiness:
		return "Readiness"
	case Startup:
		return "Startup"
	}
	return "Unknown"
}

// Result is what a container's probe of one kind currently says.
type Result uint8

const (
	// Unknown: no verdict yet (a startup probe that has not succeeded).
	Unknown Result = iota
	Success
	Failure
)

func (r Result) String() string {
	switch r {
	case Success:
		return "Success"
	case Failure:
		return "Failure"
	}
	return "Unknown"
}

// outcome is what one run of a handler found, as kubelet's probe.Result:
// a warning (a redirect the probe did not follow) counts as success.
type outcome string

const (
	outcomeSuccess outcome = "success"
	outcomeWarning outcome = "warning"
	outcomeFailure outcome = "failure"
	outcomeUnknown outcome = "unknown"
)
