package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nodeagent/nodeagent/agent/cm"
	"github.com/nodeagent/nodeagent/agent/eviction"
	"github.com/nodeagent/nodeagent/agent/images"
	"github.com/nodeagent/nodeagent/agent/lifecycle"
	agentmetrics "github.com/nodeagent/nodeagent/agent/metrics"
	"github.com/nodeagent/nodeagent/agent/nodestatus"
	"github.com/nodeagent/nodeagent/agent/prober"
	"github.com/nodeagent/nodeagent/agent/shutdown"
	"github.com/nodeagent/nodeagent/agent/stats"
	"github.com/nodeagent/nodeagent/agent/status"
	"github.com/nodeagent/nodeagent/agent/volumemanager"
	"github.com/nodeagent/nodeagent/cni"
	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/gc"
	"github.com/nodeagent/nodeagent/internal/kubecache"
	"github.com/nodeagent/nodeagent/pleg"
	"github.com/nodeagent/nodeagent/volumes"
)

const uidIndex = "uid"

// podNetwork attaches pods to the network (cni.Network; a fake in tests).
type podNetwork interface {
	Add(ctx context.Context, a cni.Attachment) ([]netip.Prefix, error)
	Del(ctx context.Context, a cni.Attachment) error
	// Check asks the plugins whether an attachment is still as they made it.
	Check(ctx context.Context, a cni.Attachment) error
}

var _ podNetwork = &cni.Network{}

// Agent runs the pods bound to one node.
type Agent struct {
	cfg     Config
	log     *slog.Logger
	client  kubernetes.Interface
	rt      cri.Runtime
	net     podNetwork
	netns   netnsOps
	clock   clock.WithTicker
	factory informers.SharedInformerFactory
	pods    cache.SharedIndexInformer
	// podEvents is the queue's handler on pods; it has synced once the
	// first list's pods are all queued.
	podEvents cache.ResourceEventHandlerRegistration
	// podsSynced says whether the pod informer has handed out its first
	// list (pods.HasSynced; a test may hold it back).
	podsSynced func() bool
	services   *serviceCache // every Service, for the containers' environment
	queue      workQueue
	recorder   record.EventRecorder
	pleg       *pleg.PLEG
	nodeIP     string
	// servingCurrent is the API's rotated serving certificate
	// (WithServingCertificate); nil when it has none.
	servingCurrent func() *tls.Certificate
	volumes        *volumes.Manager
	// volumeManager stages, publishes and sets up the pods' volumes
	// (agent/volumemanager; wired in volumes_wiring.go).
	volumeManager *volumemanager.Manager
	tokens        *tokenManager
	images        *images.Puller
	// statusManager writes every pod status (agent/status).
	statusManager *status.Manager
	prober        Prober           // probes.go
	hooks         *lifecycle.Hooks // postStart and preStop (kill.go, containers.go)
	podSync       *podSyncStatuses // per-pod state (podsyncstatus.go)
	metrics       *agentmetrics.Metrics
	stats         *stats.Collector
	gc            *gc.Manager            // image and container GC (gc_wiring.go)
	sourcesReady  atomic.Bool            // every pod that runs here was queued once
	cm            *cm.Manager            // the node's cgroups (cgroups.go)
	cgroups       cm.Cgroups             // WithCgroups; nil: the mounted hierarchy
	eviction      *eviction.Manager      // eviction_wiring.go
	reclaimer     eviction.DiskReclaimer // WithDiskReclaimer; default: the collectors (gc)
	nodeStatus    *nodestatus.Reporter   // made by Run
	admitter      podAdmitter            // the eviction manager; tests: a fake

	staticMu sync.Mutex
	static   map[string]*corev1.Pod // static pods by ns/name (static.go)

	// Graceful node shutdown (shutdown.go): nil when off.
	inhibitor    shutdown.Inhibitor
	shutdown     *shutdown.Manager
	terminations terminations
}

// Option changes what New wires in.
type Option func(*Agent)

// WithClock makes the agent read time from c (a fake clock in tests).
func WithClock(c clock.WithTicker) Option { return func(a *Agent) { a.clock = c } }

// WithCgroups makes the agent write its cgroups through cg (a cm.Fake in
// tests) instead of the hierarchy mounted at CgroupMount.
func WithCgroups(cg cm.Cgroups) Option { return func(a *Agent) { a.cgroups = cg } }

// WithMetrics makes the agent report to m (kubelet's metrics on its API);
// without it the agent keeps them in registries of its own.
func WithMetrics(m *agentmetrics.Metrics) Option { return func(a *Agent) { a.metrics = m } }

// New wires an agent; Run starts it.
func New(cfg Config, client kubernetes.Interface, rt cri.Runtime, log *slog.Logger, opts ...Option) (*Agent, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("agent configuration: %w", err)
	}
	a, err := newAgent(cfg, client, rt, log, opts)
	if err != nil {
		return nil, err
	}
	a.nodeIP = NodeIP(cfg)
	a.stats = a.newStats()
	if a.gc, err = a.newGC(); err != nil {
		return nil, err
	}
	if a.reclaimer == nil {
		a.reclaimer = a.gc // eviction frees disk through the collectors first
	}
	if a.eviction, err = a.newEvictionManager(); err != nil {
		return nil, err
	}
	a.admitter = a.eviction
	a.factory = informers.NewSharedInformerFactoryWithOptions(client, 0, kubecache.Trimmed(), informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", cfg.NodeName).String()
	}))
	a.pods = a.factory.Core().V1().Pods().Informer()
	a.podsSynced = a.pods.HasSynced
	a.services = newServiceCache(client)
	if err := a.pods.AddIndexers(cache.Indexers{uidIndex: podUID}); err != nil {
		return nil, err
	}
	a.queue = newWorkQueue()
	if a.podEvents, err = a.pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    a.enqueueObj,
		UpdateFunc: a.onPodUpdate,
		DeleteFunc: a.enqueueObj,
	}); err != nil {
		return nil, err
	}
	a.pods.AddEventHandler(a.metrics.PodStartHandler())
	a.pods.AddEventHandler(a.hookCanceller()) // hooks.go
	a.pleg = pleg.New(rt, a.enqueueUID, cfg.RelistPeriod, a.metrics, log.With("component", "pleg"))
	return a, nil
}

// newAgent makes the parts every Agent has, the running one and Cleanup's
// (client nil: nothing is read from or written to the API).
func newAgent(cfg Config, client kubernetes.Interface, rt cri.Runtime, log *slog.Logger, opts []Option) (*Agent, error) {
	a := &Agent{cfg: cfg, log: log, client: client, rt: rt, clock: clock.RealClock{}, netns: realNetNS{},
		podSync: newPodSyncStatuses(), volumes: newVolumes(cfg, volumes.System{}, log)}
	for _, o := range opts {
		o(a)
	}
	if a.metrics == nil {
		a.metrics = ownMetrics(cfg.NodeName, rt, a.clock, log)
	}
	a.cm = a.newContainerManager(a.cgroups)
	if a.prober == nil {
		m, err := a.newProber()
		if err != nil {
			return nil, err
		}
		a.prober = m
	}
	hooks, err := lifecycle.New(lifecycle.Config{Exec: rt, Dial: prober.NodeDialer(), Recorder: eventRecorder{a}, Clock: a.clock,
		Log: log.With("component", "lifecycle")})
	if err != nil {
		return nil, err
	}
	a.hooks = hooks
	a.images = images.New(rt, a.getSecret, eventRecorder{a}, a.clock)
	a.statusManager = a.newStatusManager()
	a.tokens = newTokenManager(client, a.clock)
	a.volumeManager, err = a.newVolumeManager(a.volumes, volumeKernel{mounter: volumes.System{}, loop: volumes.SystemLoop{}, formatter: volumes.SystemFormatter{}})
	a.shutdown = a.newShutdownManager()
	return a, err
}

func podUID(obj any) ([]string, error) {
	if p, ok := obj.(*corev1.Pod); ok {
		return []string{string(p.UID)}, nil
	}
	return nil, nil
}

// onPodUpdate queues an updated pod, unless the update is the status
// manager's own write coming back.
func (a *Agent) onPodUpdate(_, obj any) {
	if p, ok := obj.(*corev1.Pod); ok && a.statusManager.IsOwnWrite(p) {
		return
	}
	a.enqueueObj(obj)
}

func (a *Agent) enqueueObj(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		return
	}
	if ns, name, err := cache.SplitMetaNamespaceKey(key); err == nil {
		a.queue.Add(nameKey(ns, name))
	}
}

// enqueueUID wakes the worker of the pod with this uid: a static pod, the
// pod in the cache, or, for a pod nobody has, its runtime leftovers. Until
// the cache has synced nothing is an orphan: housekeeping finds them then.
func (a *Agent) enqueueUID(uid string) {
	if key, ok := a.staticKeyByUID(uid); ok {
		a.queue.Add(key)
		return
	}
	if !a.pods.HasSynced() {
		return
	}
	if key, ok := a.apiKeyByUID(uid); ok {
		a.queue.Add(key)
		return
	}
	a.queue.Add(orphanKey(uid))
}

// apiKeyByUID finds the API pod (not a mirror pod) with this uid.
func (a *Agent) apiKeyByUID(uid string) (workKey, bool) {
	objs, _ := a.pods.GetIndexer().ByIndex(uidIndex, uid)
	for _, o := range objs {
		if p := o.(*corev1.Pod); !isMirror(p) {
			return podWorkKey(p), true
		}
	}
	return workKey{}, false
}

// knownUID says whether a static or API pod has this uid.
func (a *Agent) knownUID(uid string) bool {
	if _, ok := a.staticKeyByUID(uid); ok {
		return true
	}
	_, ok := a.apiKeyByUID(uid)
	return ok
}

// Run registers the node and runs everything until ctx ends. Static pods
// and the workers start at once, reachable API or not, once the pod range
// is known (--pod-cidr, or the network of an earlier run; else the first
// start waits for the Node's); what needs the API's pods (orphans, mirror
// pods) waits for the informer's first list.
func (a *Agent) Run(ctx context.Context) error {
	netErr := a.setupNetwork()
	if netErr != nil && !errors.Is(netErr, errNoPodCIDR) {
		return netErr
	}
	if err := a.startContainerManager(); err != nil {
		return err
	}
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: a.client.CoreV1().Events("")})
	defer broadcaster.Shutdown()
	a.recorder = broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: a.cfg.NodeName})
	a.nodeStatus = a.nodeStatusReporter()
	go a.nodeStatus.Run(ctx)
	if netErr != nil {
		// No --pod-cidr and no network from an earlier run: the range
		// is the Node's, given by the server's node IPAM.
		if err := a.adoptNodePodCIDR(ctx); err != nil {
			return err
		}
	}
	a.scanStatic() // before the first orphan decision
	go a.runStatic(ctx)
	go a.pleg.Run(ctx)
	go a.stats.Run(ctx)
	go a.runProbeUpdates(ctx)
	go a.volumeManager.Run(ctx)
	for i := 0; i < a.cfg.Workers; i++ {
		go a.worker(ctx)
	}
	go a.serveAPI(ctx)
	a.startInformers(ctx.Done())
	go a.housekeeping(ctx)
	go a.gc.Run(ctx)
	go a.runShutdown(ctx)
	go a.runEviction(ctx)
	<-ctx.Done()
	a.queue.ShutDown()
	a.prober.Stop()
	return nil
}

// startInformers starts the pods' and the Services' informers.
func (a *Agent) startInformers(stop <-chan struct{}) {
	a.factory.Start(stop)
	a.services.factory.Start(stop)
}

// nodeStatusReporter keeps the Node and its Lease (agent/nodestatus).
func (a *Agent) nodeStatusReporter() *nodestatus.Reporter {
	c := a.cfg
	return nodestatus.New(nodestatus.Config{NodeName: c.NodeName, NodeIP: a.nodeIP, PodCIDR: c.PodCIDR, Port: c.Port, MaxPods: c.MaxPods,
		RootDir: c.RootDir, StatusInterval: c.StatusInterval, RenewInterval: c.RenewInterval, LeaseDuration: c.LeaseDuration,
		Allocatable: a.cm.AllocatableOf, Pressure: a.eviction},
		a.client, a.runtimeHealth, a.clock, a.log.With("component", "nodestatus"))
}

// runtimeHealth is the runtime's version, and whether it and the PLEG's
// event stream work.
func (a *Agent) runtimeHealth(ctx context.Context) (string, bool, string) {
	v, err := a.rt.Version(ctx)
	if err != nil {
		return "", false, "container runtime is down: " + err.Error()
	}
	if a.shuttingDown() {
		return v, false, shutdown.NotReadyMessage
	}
	if ok, why := a.pleg.Healthy(); !ok {
		return v, false, "PLEG is not healthy: " + why
	}
	return v, true, ""
}

// errNoPodCIDR: the agent has no pod range yet (no --pod-cidr) and no
// network from an earlier run.
var errNoPodCIDR = errors.New("no pod CIDR: --pod-cidr is empty and the node has none yet")

func (a *Agent) setupNetwork() error {
	if a.net != nil {
		return nil
	}
	if a.cfg.PodCIDR == "" {
		n, err := cni.Load(a.cfg.CNI)
		if err != nil {
			return fmt.Errorf("%w (%v)", errNoPodCIDR, err)
		}
		a.net = n
		return nil
	}
	if _, err := cni.WriteDefaultIfMissing(a.cfg.CNI.ConfDir, cni.BridgeOptions{PodCIDR: mustPrefix(a.cfg.PodCIDR), DataDir: a.cfg.IPAMDir}); err != nil {
		return fmt.Errorf("default CNI network: %w", err)
	}
	n, err := cni.Load(a.cfg.CNI)
	if err != nil {
		return err
	}
	a.net = n
	return nil
}

func (a *Agent) worker(ctx context.Context) {
	for {
		key, quit := a.queue.Get()
		if quit {
			return
		}
		start := a.clock.Now()
		err := a.syncKey(ctx, key)
		a.observeWork(key, start)
		if err != nil {
			a.log.Warn("pod sync failed", "pod", key, "err", err)
			a.queue.AddRateLimited(key)
		} else {
			a.queue.Forget(key)
		}
		a.queue.Done(key)
	}
}

// housekeeping, once the cache has synced, finds runtime leftovers of pods
// nobody has and requeues the static pods (for their mirror pods) now and
// then.
func (a *Agent) housekeeping(ctx context.Context) {
	if !cache.WaitForCacheSync(ctx.Done(), a.podEvents.HasSynced) {
		return
	}
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for first := true; ; first = false {
		a.cleanupOrphans(ctx)
		a.queueStatic()
		if first {
			// Every pod that runs here is queued: after this round the
			// volume manager may unstage what none of them wants.
			a.volumeManager.SetSourcesReady()
			a.sourcesReady.Store(true) // and the collectors may take a pod unknown for gone
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *Agent) cleanupOrphans(ctx context.Context) {
	sbs, err := a.rt.ListPodSandboxes(ctx, nil)
	if err != nil {
		return
	}
	uids := a.podCgroupUIDs()              // a pod torn down but for its cgroup
	uids = append(uids, a.podDirUIDs()...) // or for its directory (mounts)
	for _, sb := range sbs {
		uids = append(uids, sb.Labels[cri.LabelPodUID])
	}
	for _, uid := range a.onlyValidUIDs(uids, "sandbox label") {
		if !a.knownUID(uid) {
			a.queue.Add(orphanKey(uid))
		}
	}
	// What is held in memory for pods nobody has goes too; those with
	// leftovers get theirs back until their teardown.
	known := func(uid types.UID) bool { return a.knownUID(string(uid)) }
	a.podSync.removeOrphans(known)
	a.statusManager.RemoveOrphanedStatuses(known)
}

// ownMetrics are metrics in registries nobody serves, for an agent that was
// given none (tests, Cleanup).
func ownMetrics(node string, rt cri.Runtime, clk clock.PassiveClock, log *slog.Logger) *agentmetrics.Metrics {
	regs := agentmetrics.Registries{Metrics: prometheus.NewRegistry(), Probes: prometheus.NewRegistry()}
	m, err := agentmetrics.New(regs, node, rt, clk, log)
	if err != nil {
		panic(fmt.Sprintf("agent: metrics in fresh registries: %v", err)) // only a duplicate registration fails
	}
	return m
}
