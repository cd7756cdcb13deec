package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/agent/cm"
	"github.com/nodeagent/nodeagent/agent/images"
	"github.com/nodeagent/nodeagent/cri"
)

// startContainer pulls the image as the policy says, builds the container's
// configuration, creates and starts it. Failures that the user must fix are
// recorded as the container's waiting reason.
func (a *Agent) startContainer(ctx context.Context, pod *corev1.Pod, sb cri.Sandbox, st podState, spec corev1.Container) (err error) {
	defer func() { a.observeContainerStart(pod, spec.Name, err) }()
	image, err := a.images.EnsureImage(ctx, pod, spec)
	var imgErr *images.Error
	if errors.As(err, &imgErr) {
		a.podSync.get(pod.UID).setWaiting(spec.Name, waitingInfo{reason: imgErr.Reason, message: imgErr.Message})
	}
	if err != nil {
		return err
	}
	next := 0
	if prev, ok := st.latest(spec.Name); ok {
		next = attempt(prev) + 1
	}
	cfg, err := a.containerConfig(ctx, pod, spec, image, next)
	if err != nil {
		a.podSync.get(pod.UID).setWaiting(spec.Name, waitingInfo{reason: "CreateContainerConfigError", message: err.Error()})
		a.event(pod, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		return err
	}
	id, err := a.rt.CreateContainer(ctx, sb.ID, cfg)
	if err != nil {
		a.podSync.get(pod.UID).setWaiting(spec.Name, waitingInfo{reason: "CreateContainerError", message: err.Error()})
		a.event(pod, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		return err
	}
	a.event(pod, corev1.EventTypeNormal, "Created", "Created container %s", spec.Name)
	if err := a.rt.StartContainer(ctx, id); err != nil {
		a.event(pod, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		return err
	}
	a.podSync.get(pod.UID).clearWaiting(spec.Name)
	a.event(pod, corev1.EventTypeNormal, "Started", "Started container %s", spec.Name)
	return a.postStart(ctx, pod, sb, &spec, id)
}

// containerConfig turns the pod's container spec into the runtime's.
func (a *Agent) containerConfig(ctx context.Context, pod *corev1.Pod, spec corev1.Container, image string, attempt int) (cri.ContainerConfig, error) {
	env, err := a.resolveEnv(ctx, pod, spec)
	if err != nil {
		return cri.ContainerConfig{}, err
	}
	mounts, devices, err := a.volumeMounts(pod, spec, env)
	if err != nil {
		return cri.ContainerConfig{}, err
	}
	logPath := filepath.Join(a.cfg.PodLogDir, fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID), spec.Name, fmt.Sprintf("%d.log", attempt))
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return cri.ContainerConfig{}, err
	}
	msgMount, err := a.messageFileMount(pod, spec, attempt)
	if err != nil {
		return cri.ContainerConfig{}, err
	}
	mounts = append(mounts, msgMount...)
	command, args := expandCommand(spec, env)
	return cri.ContainerConfig{
		Name: spec.Name, Image: image, Command: command, Args: args, Env: env, WorkingDir: spec.WorkingDir,
		Mounts: mounts, Devices: devices, LogPath: logPath, LogRotation: a.cfg.ContainerLogRotation, Resources: a.containerResources(pod, spec), Security: security(pod, spec),
		TTY: spec.TTY, Stdin: spec.Stdin, StdinOnce: spec.StdinOnce,
		Labels: map[string]string{cri.LabelPodUID: string(pod.UID), cri.LabelPodNamespace: pod.Namespace,
			cri.LabelPodName: pod.Name, cri.LabelContainerName: spec.Name, cri.LabelAttempt: fmt.Sprint(attempt)},
	}, nil
}

// containerResources are the container's cgroup settings and its
// oom_score_adj from the pod's QoS class (agent/cm).
func (a *Agent) containerResources(pod *corev1.Pod, spec corev1.Container) cri.Resources {
	r := resources(spec)
	adj := cm.OOMScoreAdj(pod, &spec, a.cm.MemoryCapacity())
	r.OOMScoreAdj = &adj
	return r
}

// resources maps requests and limits onto cgroup settings as the kubelet
// does: cpu.shares from the request (1024 per core, at least 2), a CFS
// quota from the limit over a 100 ms period, and the memory limit.
func resources(spec corev1.Container) cri.Resources {
	r := cri.Resources{CPUShares: 2, CPUPeriod: 100000}
	if q, ok := spec.Resources.Requests[corev1.ResourceCPU]; ok {
		r.CPUShares = uint64(max(q.MilliValue()*1024/1000, 2))
	} else if q, ok := spec.Resources.Limits[corev1.ResourceCPU]; ok {
		r.CPUShares = uint64(max(q.MilliValue()*1024/1000, 2))
	}
	if q, ok := spec.Resources.Limits[corev1.ResourceCPU]; ok {
		r.CPUQuota = max(q.MilliValue()*100, 1000)
	}
	if q, ok := spec.Resources.Limits[corev1.ResourceMemory]; ok {
		r.MemoryLimit = q.Value()
	}
	return r
}

// security merges the pod's and the container's security contexts.
func security(pod *corev1.Pod, spec corev1.Container) cri.SecurityContext {
	var s cri.SecurityContext
	if psc := pod.Spec.SecurityContext; psc != nil {
		s.RunAsUser, s.RunAsGroup, s.SupplementalGroups = psc.RunAsUser, psc.RunAsGroup, slices.Clone(psc.SupplementalGroups)
		if psc.FSGroup != nil { // the group the pod's volumes are given to
			s.SupplementalGroups = append(s.SupplementalGroups, *psc.FSGroup)
		}
	}
	sc := spec.SecurityContext
	if sc == nil {
		return s
	}
	if sc.RunAsUser != nil {
		s.RunAsUser = sc.RunAsUser
	}
	if sc.RunAsGroup != nil {
		s.RunAsGroup = sc.RunAsGroup
	}
	s.Privileged = sc.Privileged != nil && *sc.Privileged
	s.ReadOnlyRootFS = sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem
	s.NoNewPrivileges = sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation
	if c := sc.Capabilities; c != nil {
		for _, x := range c.Add {
			s.CapAdd = append(s.CapAdd, strings.ToUpper(string(x)))
		}
		for _, x := range c.Drop {
			s.CapDrop = append(s.CapDrop, strings.ToUpper(string(x)))
		}
	}
	return s
}
