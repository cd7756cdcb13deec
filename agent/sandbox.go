package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nodeagent/nodeagent/cni"
	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/internal/nsutil"
)

// podDir holds the pod's resolv.conf, hosts and volumes.
func (a *Agent) podDir(uid string) string { return filepath.Join(a.podsDir(), uid) }

// netnsName names a pod's network namespace.
func (a *Agent) netnsName(uid string) string { return a.cfg.NetNSPrefix + uid }

// cniID is the container ID CNI knows the pod's attachment by.
func cniID(uid string, attempt int) string { return fmt.Sprintf("%s-%d", uid, attempt) }

// createSandbox makes the pod's network namespace, attaches it with CNI,
// writes resolv.conf and hosts, and runs the sandbox. On failure it undoes
// what it did.
func (a *Agent) createSandbox(ctx context.Context, pod *corev1.Pod, attempt int) (cri.Sandbox, error) {
	uid := string(pod.UID)
	if err := a.releaseOldSandboxes(ctx, pod); err != nil {
		return cri.Sandbox{}, err
	}
	dir := a.podDir(uid)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return cri.Sandbox{}, err
	}
	a.updateQOSCgroups() // the burstable tier weighs this pod's requests too
	cgroup, err := a.ensurePodCgroup(pod)
	if err != nil {
		return cri.Sandbox{}, err
	}
	cfg := cri.SandboxConfig{
		Name:     fmt.Sprintf("%s_%s_%s_%d", pod.Namespace, pod.Name, uid, attempt),
		Hostname: podHostname(pod), HostNetwork: pod.Spec.HostNetwork, HostIPC: pod.Spec.HostIPC, HostPID: pod.Spec.HostPID,
		ResolvConf: filepath.Join(dir, "resolv.conf"), Hosts: filepath.Join(dir, "hosts"),
		CgroupParent: cgroup,
		Labels: map[string]string{cri.LabelPodUID: uid, cri.LabelPodNamespace: pod.Namespace, cri.LabelPodName: pod.Name,
			labelSandboxAttempt: fmt.Sprint(attempt)},
	}
	ips, err := a.attachNetwork(ctx, pod, &cfg, attempt)
	if err != nil {
		return cri.Sandbox{}, err
	}
	cfg.Labels[labelPodIPs] = strings.Join(ips, ",")
	if err := a.writeDNSFiles(pod, cfg, ips); err != nil {
		return cri.Sandbox{}, errors.Join(err, a.detachNetwork(ctx, pod.Namespace, pod.Name, uid, attempt))
	}
	id, err := a.rt.RunPodSandbox(ctx, cfg)
	a.metrics.ObserveSandboxStart(err)
	if err != nil {
		a.event(pod, corev1.EventTypeWarning, "FailedCreatePodSandBox", "Failed to create pod sandbox: %v", err)
		return cri.Sandbox{}, errors.Join(err, a.detachNetwork(ctx, pod.Namespace, pod.Name, uid, attempt))
	}
	a.podSync.get(pod.UID).noteSandbox(id)
	return cri.Sandbox{ID: id, State: cri.SandboxReady, Labels: cfg.Labels, NetNSPath: cfg.NetNSPath}, nil
}

// attachNetwork creates the pod's namespace and runs CNI ADD; it returns
// the pod's addresses (none for host network pods).
func (a *Agent) attachNetwork(ctx context.Context, pod *corev1.Pod, cfg *cri.SandboxConfig, attempt int) ([]string, error) {
	if pod.Spec.HostNetwork {
		return nil, nil
	}
	uid := string(pod.UID)
	path := filepath.Join(a.cfg.NetNSDir, a.netnsName(uid))
	if err := a.netns.Remove(path); err != nil {
		return nil, err
	}
	path, err := a.netns.Create(a.cfg.NetNSDir, a.netnsName(uid))
	if err != nil {
		return nil, err
	}
	cfg.NetNSPath = path
	prefixes, err := a.net.Add(ctx, a.attachment(pod.Namespace, pod.Name, uid, attempt, path, hostPorts(pod)))
	if err != nil {
		a.event(pod, corev1.EventTypeWarning, "FailedCreatePodSandBox", "Failed to set up the pod network: %v", err)
		return nil, errors.Join(err, a.netns.Remove(path))
	}
	var ips []string
	for _, p := range prefixes {
		ips = append(ips, p.Addr().String())
	}
	return ips, nil
}

func (a *Agent) attachment(ns, name, uid string, attempt int, netns string, ports []cni.PortMapping) cni.Attachment {
	return cni.Attachment{ContainerID: cniID(uid, attempt), NetNS: netns, PodNamespace: ns, PodName: name, PodUID: uid, PortMappings: ports}
}

// detachNetwork runs CNI DEL (also when the namespace is gone) and removes
// the namespace.
func (a *Agent) detachNetwork(ctx context.Context, ns, name, uid string, attempt int) error {
	path := filepath.Join(a.cfg.NetNSDir, a.netnsName(uid))
	err := a.net.Del(ctx, a.attachment(ns, name, uid, attempt, path, nil))
	return errors.Join(err, a.netns.Remove(path))
}

func hostPorts(pod *corev1.Pod) []cni.PortMapping {
	var out []cni.PortMapping
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort > 0 {
				out = append(out, cni.PortMapping{HostPort: p.HostPort, ContainerPort: p.ContainerPort,
					Protocol: strings.ToLower(string(p.Protocol)), HostIP: p.HostIP})
			}
		}
	}
	return out
}

// stopSandboxes stops the pod's sandboxes and releases their network, but
// keeps the exited containers (a finished pod keeps its logs and status).
func (a *Agent) stopSandboxes(ctx context.Context, pod *corev1.Pod, st podState) error {
	var errs []error
	for _, sb := range st.sandboxes {
		if sb.State != cri.SandboxReady {
			continue
		}
		errs = append(errs, a.rt.StopPodSandbox(ctx, sb.ID))
		if !pod.Spec.HostNetwork {
			errs = append(errs, a.detachNetwork(ctx, pod.Namespace, pod.Name, string(pod.UID), sandboxAttempt(sb)))
		}
	}
	return errors.Join(errs...)
}

// teardown removes everything the pod has on this node: containers,
// sandboxes, network attachments, the namespace, the pod directory and
// cgroup. It is what a deleted pod gets, and what leftovers get.
func (a *Agent) teardown(ctx context.Context, uid string) error {
	if err := validUID(uid); err != nil {
		return err
	}
	st, err := a.podState(ctx, uid)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range st.containers {
		errs = append(errs, a.rt.StopContainer(ctx, c.ID, 0), a.rt.RemoveContainer(ctx, c.ID))
	}
	for _, sb := range st.sandboxes {
		errs = append(errs, a.rt.StopPodSandbox(ctx, sb.ID))
		if sb.NetNSPath != "" || sb.Labels[labelPodIPs] != "" {
			errs = append(errs, a.detachNetwork(ctx, sb.Labels[cri.LabelPodNamespace], sb.Labels[cri.LabelPodName], uid, sandboxAttempt(sb)))
		}
		errs = append(errs, a.rt.RemovePodSandbox(ctx, sb.ID))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	a.forgetPod(types.UID(uid))
	logs, _ := filepath.Glob(filepath.Join(a.cfg.PodLogDir, "*_"+uid))
	for _, l := range logs {
		errs = append(errs, os.RemoveAll(l))
	}
	// The volumes are unpublished first (their plugins unmount them, and
	// unstage what no pod uses); then the other mounts; the pod directory
	// only when none is left.
	if err := a.volumeManager.TearDownPod(ctx, types.UID(uid)); err != nil {
		return errors.Join(append(errs, err, a.removePodCgroup(uid))...)
	}
	errs = append(errs, a.volumes.RemovePodDir(a.podsDir(), uid), a.removePodCgroup(uid))
	a.updateQOSCgroups()
	return errors.Join(errs...)
}

// teardownByName tears down the runtime leftovers of a pod known by name.
func (a *Agent) teardownByName(ctx context.Context, ns, name string) error {
	sbs, err := a.rt.ListPodSandboxes(ctx, map[string]string{cri.LabelPodNamespace: ns, cri.LabelPodName: name})
	if err != nil {
		return err
	}
	var errs []error
	for _, sb := range sbs {
		errs = append(errs, a.teardown(ctx, sb.Labels[cri.LabelPodUID]))
	}
	return errors.Join(errs...)
}

func podHostname(pod *corev1.Pod) string {
	if pod.Spec.Hostname != "" {
		return pod.Spec.Hostname
	}
	if len(pod.Name) > 63 {
		return pod.Name[:63]
	}
	return pod.Name
}

// netnsOps creates and removes pinned network namespaces (nsutil; a fake
// in unit tests, which run without root).
type netnsOps interface {
	Create(dir, name string) (string, error)
	Remove(path string) error
}

// realNetNS pins namespaces with nsutil.
type realNetNS struct{}

func (realNetNS) Create(dir, name string) (string, error) { return nsutil.Create(dir, name) }
func (realNetNS) Remove(path string) error                { return nsutil.Remove(path) }
