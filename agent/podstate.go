package agent

import (
	"sort"
	"strconv"

	"github.com/nodeagent/nodeagent/cri"
)

// Labels the agent adds to what cri already records.
const (
	// labelPodIPs holds the pod's addresses, comma-separated, on its sandbox.
	labelPodIPs = "io.nodeagent.pod.ips"
	// labelSandboxAttempt counts sandboxes made for the pod.
	labelSandboxAttempt = "io.nodeagent.sandbox.attempt"
)

// podState is what the runtime holds for one pod.
type podState struct {
	sandboxes  []cri.Sandbox   // newest first
	containers []cri.Container // every instance, any state
}

// readySandbox returns the newest sandbox if it is ready.
func (s podState) readySandbox() (cri.Sandbox, bool) {
	if len(s.sandboxes) == 0 || s.sandboxes[0].State != cri.SandboxReady {
		return cri.Sandbox{}, false
	}
	return s.sandboxes[0], true
}

// instances returns the instances of container name in the given sandbox,
// newest (highest attempt) first.
func (s podState) instances(name string) []cri.Container {
	var out []cri.Container
	for _, c := range s.containers {
		if c.Labels[cri.LabelContainerName] == name {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return attempt(out[i]) > attempt(out[j]) })
	return out
}

// latest returns the newest instance of a container, if any.
func (s podState) latest(name string) (cri.Container, bool) {
	in := s.instances(name)
	if len(in) == 0 {
		return cri.Container{}, false
	}
	return in[0], true
}

func attempt(c cri.Container) int {
	n, _ := strconv.Atoi(c.Labels[cri.LabelAttempt])
	return n
}

func sandboxAttempt(sb cri.Sandbox) int {
	n, _ := strconv.Atoi(sb.Labels[labelSandboxAttempt])
	return n
}

// running lists the running containers.
func (s podState) running() []cri.Container {
	var out []cri.Container
	for _, c := range s.containers {
		if c.State == cri.ContainerRunning {
			out = append(out, c)
		}
	}
	return out
}

func sortSandboxes(sbs []cri.Sandbox) {
	sort.Slice(sbs, func(i, j int) bool {
		if a, b := sandboxAttempt(sbs[i]), sandboxAttempt(sbs[j]); a != b {
			return a > b
		}
		return sbs[i].CreatedAt.After(sbs[j].CreatedAt)
	})
}
