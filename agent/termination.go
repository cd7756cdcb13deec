package agent

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/agent/lifecycle"
	"github.com/nodeagent/nodeagent/cri"
)

// messageFileMount creates the termination message file of one instance
// (attempt) of a container under the pod's directory and mounts it at the
// container's terminationMessagePath; none when it has no such path.
func (a *Agent) messageFileMount(pod *corev1.Pod, spec corev1.Container, attempt int) ([]cri.Mount, error) {
	if spec.TerminationMessagePath == "" {
		return nil, nil
	}
	path := lifecycle.MessageFilePath(a.podDir(string(pod.UID)), spec.Name, attempt)
	if err := lifecycle.CreateMessageFile(path); err != nil {
		return nil, fmt.Errorf("termination message file of container %s: %w", spec.Name, err)
	}
	return []cri.Mount{{HostPath: path, ContainerPath: spec.TerminationMessagePath}}, nil
}

// addTerminationMessages fills state.terminated.message and
// lastState.terminated.message of the pod's exited containers, as kubelet
// does: what the container wrote to its terminationMessagePath, or with
// FallbackToLogsOnError the end of its log; then cuts them to kubelet's
// limits (lifecycle.TrimMessages).
func (a *Agent) addTerminationMessages(pod *corev1.Pod, st podState, s *corev1.PodStatus) {
	byID := make(map[string]cri.Container, len(st.containers))
	for _, c := range st.containers {
		byID[c.ID] = c
	}
	for _, list := range [][]corev1.ContainerStatus{s.InitContainerStatuses, s.ContainerStatuses} {
		for i := range list {
			spec := containerSpec(pod, list[i].Name)
			a.terminationMessage(pod, spec, byID, list[i].State.Terminated)
			a.terminationMessage(pod, spec, byID, list[i].LastTerminationState.Terminated)
		}
	}
	lifecycle.TrimMessages(pod, s)
}

func (a *Agent) terminationMessage(pod *corev1.Pod, spec *corev1.Container, byID map[string]cri.Container, t *corev1.ContainerStateTerminated) {
	if t == nil || spec == nil {
		return
	}
	c, ok := byID[strings.TrimPrefix(t.ContainerID, "containerd://")]
	if !ok {
		return
	}
	file := ""
	if spec.TerminationMessagePath != "" {
		file = lifecycle.MessageFilePath(a.podDir(string(pod.UID)), spec.Name, attempt(c))
	}
	t.Message = lifecycle.TerminationMessage(spec, lifecycle.Exited{ExitCode: c.ExitCode, Reason: c.Reason, MessageFile: file, LogPath: c.LogPath})
}
