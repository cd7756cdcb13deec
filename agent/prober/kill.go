package prober

import "fmt"

// ProbeFailure says whether a running container failed its liveness probe
// or, else, its startup probe: the agent then kills it (and restarts it as
// its restart policy says).
func (m *Manager) ProbeFailure(containerID string) (Kind, bool) {
	for _, kind := range []Kind{Liveness, Startup} {
		if res, ok := m.results.Get(kind, containerID); ok && res == Failure {
			return kind, true
		}
	}
	return 0, false
}

// KillMessage is the message of kubelet's "Killing" event for a container
// killed for a failed probe, e.g. "Container app failed liveness probe,
// will be restarted".
func KillMessage(container string, kind Kind, sidecar, restart bool) string {
	what := "Container"
	if sidecar {
		what = "Init container"
	}
	msg := fmt.Sprintf("%s %s failed %s probe", what, container, kindWord(kind))
	if restart {
		msg += ", will be restarted"
	}
	return msg
}

func kindWord(k Kind) string {
	switch k {
	case Liveness:
		return "liveness"
	case Startup:
		return "startup"
	}
	return "readiness"
}
