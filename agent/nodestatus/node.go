// Package nodestatus registers the agent's Node, posts its status
// (addresses, capacity, conditions, versions) every StatusInterval and
// keeps its Lease in kube-node-lease fresh, as kubelet's node status and
// node lease controllers do. It keeps no state of its own.
package nodestatus

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"
)

// Config says what the node is.
type Config struct {
	NodeName string
	// NodeIP is the node's InternalIP.
	NodeIP string
	// PodCIDR is set on the Node when the agent registers it.
	PodCIDR string
	// Port is the agent API's port (status.daemonEndpoints).
	Port int
	// MaxPods is the pods capacity.
	MaxPods int
	// RootDir is the filesystem whose size is the ephemeral storage.
	RootDir string
	// StatusInterval is how often the status is posted; RenewInterval how
	// often the Lease is renewed, for LeaseDuration.
	StatusInterval, RenewInterval, LeaseDuration time.Duration
	// Allocatable is what the node offers pods out of its capacity (node
	// allocatable); nil: all of it.
	Allocatable func(capacity corev1.ResourceList) corev1.ResourceList
	// Pressure says which pressure conditions hold (the eviction
	// manager); nil: none.
	Pressure Pressure
}

// Pressure is what the eviction manager says of the node's resources.
type Pressure interface {
	IsUnderMemoryPressure() bool
	IsUnderDiskPressure() bool
	IsUnderPIDPressure() bool
}

// Health says whether the node is healthy, and why not in the words of
// kubelet's Ready message ("container runtime is down: ...", "PLEG is not
// healthy: ...", "node is shutting down").
type Health func(ctx context.Context) (runtimeVersion string, healthy bool, why string)

// Reporter keeps the Node and its Lease.
type Reporter struct {
	cfg    Config
	client kubernetes.Interface
	health Health
	clock  clock.WithTicker
	log    *slog.Logger
	// kick asks for a status update now (Kick).
	kick chan struct{}
	// version is the kubelet version reported, once the server's is known
	// (kubeletVersion); "" before. The status loop alone uses it.
	version string
}

// New returns a Reporter; Run starts it.
func New(cfg Config, client kubernetes.Interface, health Health, clk clock.WithTicker, log *slog.Logger) *Reporter {
	return &Reporter{cfg: cfg, client: client, health: health, clock: clk, log: log, kick: make(chan struct{}, 1)}
}

// Kick asks for the node's status to be posted now, not at the next
// StatusInterval: a pressure condition changed. It never blocks.
func (r *Reporter) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run posts the node's status and renews its Lease until ctx ends.
func (r *Reporter) Run(ctx context.Context) {
	go r.runNodeStatus(ctx)
	r.runLease(ctx)
}

// runNodeStatus registers the node, then posts its status every
// StatusInterval, retrying with back-off while the API is unreachable.
func (r *Reporter) runNodeStatus(ctx context.Context) {
	t := r.clock.NewTicker(r.cfg.StatusInterval)
	defer t.Stop()
	for {
		if err := r.updateNodeStatus(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("node status update failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		case <-r.kick:
		}
	}
}

// nodeStatusUpdateRetry is how many times in a row a status update that
// met another writer's change is tried, as kubelet's (each try reads the
// Node afresh).
const nodeStatusUpdateRetry = 5

// updateNodeStatus posts the status, again at once when another writer
// changed the Node in between (kube-controller-manager's node IPAM and
// node lifecycle controller write a newly registered Node within
// milliseconds, and a conflict left to the next StatusInterval kept the
// node NotReady that long) or when the request got no answer (kubelet
// tries every failed update again at once; a client certificate rotation
// closes the connections, failing a request in flight with "use of closed
// network connection").
func (r *Reporter) updateNodeStatus(ctx context.Context) error {
	var err error
	for range nodeStatusUpdateRetry {
		var sent *corev1.Node
		if sent, err = r.sendNodeStatus(ctx); !unanswered(ctx, err) && !apierrors.IsConflict(err) && !r.taintedSince(ctx, sent, err) {
			return err
		}
	}
	return err
}

// unanswered says whether err is a request's failure without an answer
// from the API server (a transport error, not a status), while ctx lasts.
func unanswered(ctx context.Context, err error) bool {
	var status apierrors.APIStatus
	return err != nil && ctx.Err() == nil && !errors.As(err, &status)
}

// taintedSince: the update was forbidden and the Node's taints are no
// longer the ones it carried. kube-apiserver's NodeRestriction refuses a
// node's update whose spec.taints (the agent's read) differ from the
// stored ones, and checks that before the resourceVersion: the controller
// manager tainted the new Node in between, another writer's change.
// (kubelet sends a status patch, which carries no spec; the agent updates.)
func (r *Reporter) taintedSince(ctx context.Context, sent *corev1.Node, err error) bool {
	if sent == nil || !apierrors.IsForbidden(err) {
		return false
	}
	now, gerr := r.client.CoreV1().Nodes().Get(ctx, sent.Name, metav1.GetOptions{})
	return gerr == nil && !equality.Semantic.DeepEqual(now.Spec.Taints, sent.Spec.Taints)
}

// postNodeStatus registers the Node if it is not there, and updates its
// status.
func (r *Reporter) postNodeStatus(ctx context.Context) error {
	_, err := r.sendNodeStatus(ctx)
	return err
}

// sendNodeStatus is postNodeStatus that returns the Node it sent.
func (r *Reporter) sendNodeStatus(ctx context.Context) (*corev1.Node, error) {
	nodes := r.client.CoreV1().Nodes()
	node, err := nodes.Get(ctx, r.cfg.NodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		node, err = nodes.Create(ctx, r.newNode(), metav1.CreateOptions{})
	}
	if err != nil {
		return nil, err
	}
	next := node.DeepCopy()
	next.Status = r.nodeStatus(ctx, node.Status)
	_, err = nodes.UpdateStatus(ctx, next, metav1.UpdateOptions{})
	return next, err
}

func (r *Reporter) newNode() *corev1.Node {
	host, _ := os.Hostname()
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: r.cfg.NodeName, Labels: map[string]string{
		"kubernetes.io/hostname": r.cfg.NodeName, "kubernetes.io/os": runtime.GOOS, "kubernetes.io/arch": runtime.GOARCH,
		"nodeagent.io/host": host}},
		Spec:   podCIDRSpec(r.cfg.PodCIDR),
		Status: corev1.NodeStatus{Phase: corev1.NodeRunning}}
}

// podCIDRSpec is the spec of a Node registered with cidr as its pod range;
// none when cidr is "" (the server's node IPAM gives one).
func podCIDRSpec(cidr string) corev1.NodeSpec {
	if cidr == "" {
		return corev1.NodeSpec{}
	}
	return corev1.NodeSpec{PodCIDR: cidr, PodCIDRs: []string{cidr}}
}

// nodeStatus computes the node's status: addresses, capacity, conditions,
// endpoints and versions.
func (r *Reporter) nodeStatus(ctx context.Context, old corev1.NodeStatus) corev1.NodeStatus {
	now := metav1.NewTime(r.clock.Now())
	rtVersion, healthy, why := r.health(ctx)
	kubelet := r.kubeletVersion()
	capacity := r.capacity()
	allocatable := capacity
	if r.cfg.Allocatable != nil {
		allocatable = r.cfg.Allocatable(capacity)
	}
	s := corev1.NodeStatus{
		Capacity: capacity, Allocatable: allocatable,
		Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: r.cfg.NodeIP}, {Type: corev1.NodeHostName, Address: r.cfg.NodeName}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(r.cfg.Port)}},
		NodeInfo: corev1.NodeSystemInfo{KernelVersion: kernelVersion(), OSImage: osImage(), OperatingSystem: runtime.GOOS,
			Architecture: runtime.GOARCH, ContainerRuntimeVersion: rtVersion, KubeletVersion: kubelet,
			KubeProxyVersion: kubelet, MachineID: readTrim("/etc/machine-id"), BootID: readTrim("/proc/sys/kernel/random/boot_id")},
		Phase: corev1.NodeRunning,
	}
	ready, reason, msg := corev1.ConditionTrue, "KubeletReady", "nodeagent is posting ready status"
	if !healthy {
		ready, reason, msg = corev1.ConditionFalse, "KubeletNotReady", why
	}
	s.Conditions = append(r.pressureConditions(old, now), nodeCond(old, corev1.NodeReady, ready, reason, msg, now))
	return s
}

// pressureConditions are MemoryPressure, DiskPressure and PIDPressure as
// the eviction manager has them, with kubelet's reasons.
func (r *Reporter) pressureConditions(old corev1.NodeStatus, now metav1.Time) []corev1.NodeCondition {
	var mem, disk, pid bool
	if p := r.cfg.Pressure; p != nil {
		mem, disk, pid = p.IsUnderMemoryPressure(), p.IsUnderDiskPressure(), p.IsUnderPIDPressure()
	}
	return []corev1.NodeCondition{
		pressureCond(old, corev1.NodeMemoryPressure, mem, now, "KubeletHasInsufficientMemory", "nodeagent has insufficient memory available",
			"KubeletHasSufficientMemory", "nodeagent has sufficient memory available"),
		pressureCond(old, corev1.NodeDiskPressure, disk, now, "KubeletHasDiskPressure", "nodeagent has disk pressure",
			"KubeletHasNoDiskPressure", "nodeagent has no disk pressure"),
		pressureCond(old, corev1.NodePIDPressure, pid, now, "KubeletHasInsufficientPID", "nodeagent has insufficient PID available",
			"KubeletHasSufficientPID", "nodeagent has sufficient PID available"),
	}
}

func pressureCond(old corev1.NodeStatus, t corev1.NodeConditionType, under bool, now metav1.Time, yesReason, yesMsg, noReason, noMsg string) corev1.NodeCondition {
	if under {
		return nodeCond(old, t, corev1.ConditionTrue, yesReason, yesMsg, now)
	}
	return nodeCond(old, t, corev1.ConditionFalse, noReason, noMsg, now)
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
func (r *Reporter) capacity() corev1.ResourceList {
	var si unix.Sysinfo_t
	unix.Sysinfo(&si)
	var fs unix.Statfs_t
	os.MkdirAll(r.cfg.RootDir, 0o750)
	unix.Statfs(r.cfg.RootDir, &fs)
	return corev1.ResourceList{
		corev1.ResourceCPU:              *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI),
		corev1.ResourceMemory:           *resource.NewQuantity(int64(si.Totalram)*int64(si.Unit), resource.BinarySI),
		corev1.ResourceEphemeralStorage: *resource.NewQuantity(int64(fs.Blocks)*fs.Bsize, resource.BinarySI),
		corev1.ResourcePods:             *resource.NewQuantity(int64(r.cfg.MaxPods), resource.DecimalSI),
	}
}

// runLease keeps the node's Lease in kube-node-lease fresh.
func (r *Reporter) runLease(ctx context.Context) {
	t := r.clock.NewTicker(r.cfg.RenewInterval)
	defer t.Stop()
	for {
		if err := r.renewLease(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("lease renewal failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}

func (r *Reporter) renewLease(ctx context.Context) error {
	leases := r.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(r.clock.Now())
	l, err := leases.Get(ctx, r.cfg.NodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		secs := int32(r.cfg.LeaseDuration.Seconds())
		_, err = leases.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: r.cfg.NodeName},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &r.cfg.NodeName, LeaseDurationSeconds: &secs, RenewTime: &now}}, metav1.CreateOptions{})
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
