package agent

import (
	"context"
	"os"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// agentVersion is what the node reports as its kubelet version.
const agentVersion = "v1.37.2-nodeagent"

// runNodeStatus registers the node, then posts its status every
// StatusInterval, retrying with back-off while the API is unreachable.
func (a *Agent) runNodeStatus(ctx context.Context) {
	t := time.NewTicker(a.cfg.StatusInterval)
	defer t.Stop()
	for {
		if err := a.postNodeStatus(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("node status update failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *Agent) postNodeStatus(ctx context.Context) error {
	nodes := a.client.CoreV1().Nodes()
	node, err := nodes.Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		node, err = nodes.Create(ctx, a.newNode(), metav1.CreateOptions{})
	}
	if err != nil {
		return err
	}
	next := node.DeepCopy()
	next.Status = a.nodeStatus(ctx, node.Status)
	_, err = nodes.UpdateStatus(ctx, next, metav1.UpdateOptions{})
	return err
}

func (a *Agent) newNode() *corev1.Node {
	host, _ := os.Hostname()
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: a.cfg.NodeName, Labels: map[string]string{
		"kubernetes.io/hostname": a.cfg.NodeName, "kubernetes.io/os": runtime.GOOS, "kubernetes.io/arch": runtime.GOARCH,
		"nodeagent.io/host": host}},
		Spec:   corev1.NodeSpec{PodCIDR: a.cfg.PodCIDR, PodCIDRs: []string{a.cfg.PodCIDR}},
		Status: corev1.NodeStatus{Phase: corev1.NodeRunning}}
}

// nodeStatus computes the node's status: addresses, capacity, conditions,
// endpoints and versions.
func (a *Agent) nodeStatus(ctx context.Context, old corev1.NodeStatus) corev1.NodeStatus {
	now := metav1.NewTime(a.clock.Now())
	rtVersion, rtErr := a.rt.Version(ctx)
	capacity := a.capacity()
	s := corev1.NodeStatus{
		Capacity: capacity, Allocatable: capacity,
		Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: a.nodeIP}, {Type: corev1.NodeHostName, Address: a.cfg.NodeName}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(a.cfg.Port)}},
		NodeInfo: corev1.NodeSystemInfo{KernelVersion: kernelVersion(), OSImage: osImage(), OperatingSystem: runtime.GOOS,
			Architecture: runtime.GOARCH, ContainerRuntimeVersion: rtVersion, KubeletVersion: agentVersion,
			KubeProxyVersion: agentVersion, MachineID: readTrim("/etc/machine-id"), BootID: readTrim("/proc/sys/kernel/random/boot_id")},
		Phase: corev1.NodeRunning,
	}
	ready, reason, msg := corev1.ConditionTrue, "KubeletReady", "nodeagent is posting ready status"
	if ok, why := a.pleg.Healthy(); rtErr != nil || !ok {
		ready, reason, msg = corev1.ConditionFalse, "KubeletNotReady", "container runtime is down: "+why
		if rtErr != nil {
			msg = "container runtime is down: " + rtErr.Error()
		}
	}
	s.Conditions = []corev1.NodeCondition{
		nodeCond(old, corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "nodeagent has sufficient memory available", now),
		nodeCond(old, corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "nodeagent has no disk pressure", now),
		nodeCond(old, corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "nodeagent has sufficient PID available", now),
		nodeCond(old, corev1.NodeReady, ready, reason, msg, now),
	}
	return s
}

func nodeCond(old corev1.NodeStatus, t corev1.NodeConditionType, st corev1.ConditionStatus, reason, msg string, now metav1.Time) corev1.NodeCondition {
	c := corev1.NodeCondition{Type: t, Status: st, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
	for _, o := range old.Conditions {
		if o.Type == t && o.Status == st {
			c.LastTransitionTime = o.LastTransitionTime
		}
	}
	return c
}

// capacity reports cpu, memory, ephemeral storage (of RootDir) and pods.
func (a *Agent) capacity() corev1.ResourceList {
	var si unix.Sysinfo_t
	unix.Sysinfo(&si)
	var fs unix.Statfs_t
	os.MkdirAll(a.cfg.RootDir, 0o750)
	unix.Statfs(a.cfg.RootDir, &fs)
	return corev1.ResourceList{
		corev1.ResourceCPU:              *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI),
		corev1.ResourceMemory:           *resource.NewQuantity(int64(si.Totalram)*int64(si.Unit), resource.BinarySI),
		corev1.ResourceEphemeralStorage: *resource.NewQuantity(int64(fs.Blocks)*fs.Bsize, resource.BinarySI),
		corev1.ResourcePods:             *resource.NewQuantity(int64(a.cfg.MaxPods), resource.DecimalSI),
	}
}

// runLease keeps the node's Lease in kube-node-lease fresh.
func (a *Agent) runLease(ctx context.Context) {
	t := time.NewTicker(a.cfg.RenewInterval)
	defer t.Stop()
	for {
		if err := a.renewLease(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("lease renewal failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *Agent) renewLease(ctx context.Context) error {
	leases := a.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(a.clock.Now())
	l, err := leases.Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		secs := int32(a.cfg.LeaseDuration.Seconds())
		_, err = leases.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: a.cfg.NodeName},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &a.cfg.NodeName, LeaseDurationSeconds: &secs, RenewTime: &now}}, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	l.Spec.RenewTime = &now
	_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	return err
}

func kernelVersion() string {
	var u unix.Utsname
	unix.Uname(&u)
	return unix.ByteSliceToString(u.Release[:])
}

func osImage() string {
	data, _ := os.ReadFile("/etc/os-release")
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return "Linux"
}

func readTrim(p string) string {
	b, _ := os.ReadFile(p)
	return strings.TrimSpace(string(b))
}
