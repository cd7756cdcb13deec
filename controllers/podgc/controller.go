package podgc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/controllers/internal/loop"
)

// DefaultTerminatedPodThreshold is kube-controller-manager's
// --terminated-pod-gc-threshold.
const DefaultTerminatedPodThreshold = 12500

// Config tunes the collector; zero values are kube's.
type Config struct {
	// TerminatedPodThreshold is how many terminated pods are kept; 0 is
	// DefaultTerminatedPodThreshold, a negative value keeps them all.
	TerminatedPodThreshold int
	// Period is how often pods are looked through: kube's 20s.
	Period time.Duration
	// Quarantine is how long a node must be missing before its pods go:
	// kube's 40s.
	Quarantine time.Duration
}

func (c Config) withDefaults() Config {
	if c.TerminatedPodThreshold == 0 {
		c.TerminatedPodThreshold = DefaultTerminatedPodThreshold
	}
	if c.Period <= 0 {
		c.Period = 20 * time.Second
	}
	if c.Quarantine <= 0 {
		c.Quarantine = 40 * time.Second
	}
	return c
}

// Controller is the pod garbage collector. Its queue holds the names of
// nodes found missing, each added after the quarantine.
type Controller struct {
	client kubernetes.Interface
	pods   corelisters.PodLister
	nodes  corelisters.NodeLister
	synced []cache.InformerSynced
	queue  workqueue.TypedRateLimitingInterface[string]
	clock  clock.WithTicker
	log    *slog.Logger
	cfg    Config
}

// New wires the collector to pod and node informers from factory.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, log *slog.Logger, clk clock.WithTicker, cfg Config) *Controller {
	pods, nodes := factory.Core().V1().Pods(), factory.Core().V1().Nodes()
	return &Controller{client: client, pods: pods.Lister(), nodes: nodes.Lister(), clock: clk, log: log, cfg: cfg.withDefaults(),
		synced: []cache.InformerSynced{pods.Informer().HasSynced, nodes.Informer().HasSynced},
		queue:  loop.NewQueue[string](clk, "podgc"),
	}
}

// Run collects every period until ctx ends; it returns once its
// goroutines have.
func (c *Controller) Run(ctx context.Context) {
	loop.Run(ctx, c.queue, c.synced, c.syncNode, c.log, c.clock, c.cfg.Period, func() { c.gc(ctx) })
}

// gc is one pass over the pods.
func (c *Controller) gc(ctx context.Context) {
	pods, err := c.pods.List(labels.Everything())
	if err != nil {
		c.log.Warn("list pods", "err", err)
		return
	}
	nodes, err := c.nodeMap()
	if err != nil {
		c.log.Warn("list nodes", "err", err)
		return
	}
	c.deleteAll(ctx, "terminated pods above the threshold", excessTerminated(pods, c.cfg.TerminatedPodThreshold), nil)
	c.deleteAll(ctx, "terminating on an out-of-service node", terminatingOutOfService(pods, nodes), nil)
	c.deleteAll(ctx, "terminating and never scheduled", unscheduledTerminating(pods), nil)
	for _, name := range missingNodes(pods, nodes) {
		c.queue.AddAfter(name, c.cfg.Quarantine)
	}
}

func (c *Controller) nodeMap() (map[string]*corev1.Node, error) {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	out := make(map[string]*corev1.Node, len(nodes))
	for _, n := range nodes {
		out[n.Name] = n
	}
	return out, nil
}

// syncNode deletes the pods of a node missing for the quarantine, once a
// live GET confirms it is gone.
func (c *Controller) syncNode(ctx context.Context, name string) error {
	if _, err := c.nodes.Get(name); err == nil {
		return nil
	}
	_, err := c.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err == nil {
		return nil
	}
	if !apierrors.IsNotFound(err) {
		return fmt.Errorf("get node %s: %w", name, err)
	}
	pods, err := c.pods.List(labels.Everything())
	if err != nil {
		return err
	}
	cond := &corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
		Reason: "DeletionByPodGC", Message: "PodGC: node no longer exists"}
	return c.deleteAll(ctx, "bound to a node that no longer exists", onNode(pods, name), cond)
}

// deleteAll force-deletes pods, marking the unfinished ones Failed (with
// cond, if any) first. It returns the errors joined; each is also logged.
func (c *Controller) deleteAll(ctx context.Context, why string, pods []*corev1.Pod, cond *corev1.PodCondition) error {
	var errs []error
	for _, p := range pods {
		if err := c.markFailedAndDelete(ctx, p, cond); err != nil {
			c.log.Warn("pod GC", "pod", p.Namespace+"/"+p.Name, "reason", why, "err", err)
			errs = append(errs, err)
			continue
		}
		c.log.Info("pod GC deleted pod", "pod", p.Namespace+"/"+p.Name, "reason", why)
	}
	return errors.Join(errs...)
}
