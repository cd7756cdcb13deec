package proxy

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/nodeagent/nodeagent/internal/kubecache"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
)

// Options wire a Proxy.
type Options struct {
	NodeName string
	// NodeIPs, when set, are the addresses node ports answer on;
	// otherwise the node's non-loopback IPv4 addresses, re-read every
	// NodeIPInterval.
	NodeIPs        []netip.Addr
	NodeIPInterval time.Duration
	// IgnoreInterfaces hold addresses that are not the node's (IPVS mode's
	// dummy link holds every cluster IP).
	IgnoreInterfaces []string
	Runner           RunnerConfig
	Conntrack        Conntrack
	// Observer hears about changes and syncs (metrics, health); nil: none.
	// It also gets this node's Node object, from an informer of its own.
	Observer Observer
	Clock    clock.WithTicker
}

// Proxy is the whole service proxy: informers for Services and
// EndpointSlices → Tracker → Runner → Backend.
type Proxy struct {
	opts    Options
	log     *slog.Logger
	obs     Observer
	factory informers.SharedInformerFactory
	// nodes watches this node's Node alone, for the observer.
	nodes   informers.SharedInformerFactory
	synced  []cache.InformerSynced
	Tracker *Tracker
	Runner  *Runner
}

// New wires a proxy for backend b; Run starts it.
func New(client kubernetes.Interface, b Backend, opts Options, log *slog.Logger) (*Proxy, error) {
	opts = opts.withDefaults()
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("proxy configuration: %w", err)
	}
	p := &Proxy{opts: opts, log: log, obs: opts.Observer, Tracker: NewTracker(opts.NodeName)}
	if p.obs == nil {
		p.obs = NopObserver{}
	}
	p.Runner = NewRunner(opts.Runner, p.Tracker, b, opts.Conntrack, p.obs, opts.Clock, log)
	p.factory = informers.NewSharedInformerFactoryWithOptions(client, 0, kubecache.Trimmed())
	svcs := p.factory.Core().V1().Services().Informer()
	eps := p.factory.Discovery().V1().EndpointSlices().Informer()
	if _, err := svcs.AddEventHandler(p.serviceHandler()); err != nil {
		return nil, err
	}
	if _, err := eps.AddEventHandler(p.sliceHandler()); err != nil {
		return nil, err
	}
	p.synced = []cache.InformerSynced{svcs.HasSynced, eps.HasSynced}
	if opts.Observer != nil {
		if err := p.watchNode(client); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// watchNode tells the observer about this node's Node object (kube-proxy's
// healthz says 503 once the node is being deleted).
func (p *Proxy) watchNode(client kubernetes.Interface) error {
	p.nodes = informers.NewSharedInformerFactoryWithOptions(client, 0, kubecache.Trimmed(), informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("metadata.name", p.opts.NodeName).String()
	}))
	_, err := p.nodes.Core().V1().Nodes().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { p.onNode(o, false) },
		UpdateFunc: func(_, o any) { p.onNode(o, false) },
		DeleteFunc: func(o any) { p.onNode(o, true) },
	})
	return err
}

func (p *Proxy) onNode(obj any, deleted bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj, deleted = d.Obj, true
	}
	if n, ok := obj.(*corev1.Node); ok {
		p.obs.NodeChanged(n, deleted)
	}
}

func (p *Proxy) serviceHandler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { p.onService(o, false) },
		UpdateFunc: func(_, o any) { p.onService(o, false) },
		DeleteFunc: func(o any) { p.onService(o, true) },
	}
}

func (p *Proxy) sliceHandler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { p.onSlice(o, false) },
		UpdateFunc: func(_, o any) { p.onSlice(o, false) },
		DeleteFunc: func(o any) { p.onSlice(o, true) },
	}
}

func (p *Proxy) onService(obj any, deleted bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj, deleted = d.Obj, true
	}
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return
	}
	if deleted {
		p.Tracker.DeleteService(svc)
	} else {
		p.Tracker.UpdateService(svc)
	}
	p.obs.ServiceChanged(types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name})
	p.Runner.Changed()
}

func (p *Proxy) onSlice(obj any, deleted bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj, deleted = d.Obj, true
	}
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return
	}
	if deleted {
		p.Tracker.DeleteSlice(s)
	} else {
		p.Tracker.UpdateSlice(s)
	}
	if svc, ok := sliceService(s); ok {
		p.obs.EndpointsChanged(svc, triggerTime(s))
	}
	p.Runner.Changed()
}

// Run starts the informers, waits for their first list (so that the first
// sync is complete, not a half-empty rule set) and syncs until ctx ends.
func (p *Proxy) Run(ctx context.Context) error {
	p.refreshNodeIPs()
	p.factory.Start(ctx.Done())
	if p.nodes != nil {
		p.nodes.Start(ctx.Done())
	}
	if !cache.WaitForCacheSync(ctx.Done(), p.synced...) {
		return fmt.Errorf("proxy: informers did not sync: %w", context.Cause(ctx))
	}
	if len(p.opts.NodeIPs) == 0 {
		go p.watchNodeIPs(ctx)
	}
	p.Runner.Run(ctx)
	return nil
}

func (p *Proxy) watchNodeIPs(ctx context.Context) {
	t := p.opts.Clock.NewTicker(p.opts.NodeIPInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			if p.refreshNodeIPs() {
				p.Runner.Changed()
			}
		}
	}
}

// refreshNodeIPs sets the tracker's node addresses; true when they changed.
func (p *Proxy) refreshNodeIPs() bool {
	ips := p.opts.NodeIPs
	if len(ips) == 0 {
		ips = localIPv4s(p.opts.IgnoreInterfaces)
	}
	before := p.Tracker.NodeIPs()
	p.Tracker.SetNodeIPs(ips)
	return !slices.Equal(before, ips)
}

// localIPv4s lists this network namespace's non-loopback IPv4 addresses,
// but for those on the ignored interfaces.
func localIPv4s(ignore []string) []netip.Addr {
	ifaces, _ := net.Interfaces()
	var out []netip.Addr
	for _, ifc := range ifaces {
		if slices.Contains(ignore, ifc.Name) {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
				out = append(out, netip.AddrFrom4([4]byte(n.IP.To4())))
			}
		}
	}
	slices.SortFunc(out, func(a, b netip.Addr) int { return a.Compare(b) })
	return out
}

// triggerTime is the slice's endpoints.kubernetes.io/last-change-trigger-time
// (when the change it carries began, set by the EndpointSlice controller);
// zero when absent or unreadable.
func triggerTime(s *discoveryv1.EndpointSlice) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s.Annotations[corev1.EndpointsLastChangeTriggerTime])
	if err != nil {
		return time.Time{}
	}
	return t
}
