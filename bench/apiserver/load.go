package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/nodeagent/nodeagent/bench/internal/stats"
)

const (
	benchNamespace = "default"
	testImage      = "127.0.0.1:5000/nodeagent/testserver:v1"
	// opTimeout bounds one request (a create, a list of every pod).
	opTimeout = 60 * time.Second
	// deleteTimeout bounds the deletecollection that empties the namespace.
	deleteTimeout = 5 * time.Minute

	mediaJSON     = "application/json"
	mediaProtobuf = "application/vnd.kubernetes.protobuf"
)

// shards is how many values the bench-shard label takes: selecting one
// matches 1 % of the pods.
const shards = 100

// podMaker makes the bench's pods: the smallest valid pod, bound to one of
// nodes bench nodes (pod i to node i mod nodes) and labelled with one of
// shards shards (i mod shards), so that a node's list and a label selector
// select known numbers of pods. The servers fill in the defaults; bound
// pods are left alone by the schedulers of both.
type podMaker struct{ nodes int }

func (m podMaker) pod(name string, i int) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: benchNamespace,
			Labels: map[string]string{"app": "nodeagent-bench", "bench-shard": shardName(i % shards)}},
		Spec: corev1.PodSpec{NodeName: benchNode(i % m.nodes),
			Containers: []corev1.Container{{Name: "c", Image: testImage}}},
	}
}

func benchNode(i int) string { return fmt.Sprintf("bench-node-%02d", i) }

func shardName(i int) string { return fmt.Sprintf("s%02d", i) }

// placed is how many of the pods numbered 0..n-1 have i mod m == k.
func placed(n, m, k int) int {
	c := n / m
	if k < n%m {
		c++
	}
	return c
}

// createNodes makes the nodes the pods are bound to (without them the pod
// garbage collector would delete pods bound to missing nodes). They never
// report; nothing evicts their pods.
func createNodes(ctx context.Context, cs kubernetes.Interface, n int) error {
	for i := range n {
		ctx, cancel := context.WithTimeout(ctx, opTimeout)
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: benchNode(i)}}
		_, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
		cancel()
		if err != nil {
			return fmt.Errorf("create node %s: %w", node.Name, err)
		}
	}
	return nil
}

// newClientsets makes n clientsets, each with its own connection (see
// kubeanchor.RESTConfig). They use client-go's default encoding, protobuf. closeIdle
// closes their connections once they are no longer used.
func newClientsets(cfg *rest.Config, n int) (css []kubernetes.Interface, closeIdle func(), err error) {
	css = make([]kubernetes.Interface, n)
	hcs := make([]*http.Client, n)
	closeIdle = func() {
		for _, hc := range hcs {
			if hc != nil {
				hc.CloseIdleConnections()
			}
		}
	}
	for i := range css {
		if css[i], hcs[i], err = newClientset(cfg); err != nil {
			closeIdle()
			return nil, nil, fmt.Errorf("clientset %d: %w", i, err)
		}
	}
	return css, closeIdle, nil
}

func newClientset(cfg *rest.Config) (kubernetes.Interface, *http.Client, error) {
	cfg = rest.CopyConfig(cfg)
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, nil, err
	}
	cs, err := kubernetes.NewForConfigAndClient(cfg, hc)
	return cs, hc, err
}

// op is one measured operation: the i-th of a run, done by worker w.
type op func(ctx context.Context, w, i int) error

// measure runs n operations on the given number of workers, timing each;
// the first error stops the run and is returned.
func measure(ctx context.Context, n, workers int, do op) (stats.Summary, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			if err := runWorker(ctx, w, n, &next, lat, do); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return stats.Summary{}, err
	}
	return stats.Summarize(lat, wall), nil
}

// runWorker takes operation numbers from next until n are taken or ctx ends.
func runWorker(ctx context.Context, w, n int, next *atomic.Int64, lat []time.Duration, do op) error {
	for {
		i := int(next.Add(1)) - 1
		if i >= n || ctx.Err() != nil {
			return nil
		}
		start := time.Now()
		if err := do(ctx, w, i); err != nil {
			return err
		}
		lat[i] = time.Since(start)
	}
}

// createPods creates the pods numbered from..from+n-1, named
// prefix-NNNNN, spread over the clientsets (one worker each).
func createPods(ctx context.Context, css []kubernetes.Interface, m podMaker, prefix string, from, n int) (stats.Summary, error) {
	return measure(ctx, n, len(css), func(ctx context.Context, w, i int) error {
		return createPod(ctx, css[w], m.pod(fmt.Sprintf("%s-%05d", prefix, from+i), from+i))
	})
}

func createPod(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if _, err := cs.CoreV1().Pods(benchNamespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create pod %s/%s: %w", benchNamespace, pod.Name, err)
	}
	return nil
}

// storedPodJSON is the JSON of a pod as the server keeps it (defaults
// applied, status set): the value the etcd baseline writes.
func storedPodJSON(ctx context.Context, cs kubernetes.Interface, name string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	pod, err := cs.CoreV1().Pods(benchNamespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("get pod %s/%s: %w", benchNamespace, name, err)
	}
	pod.TypeMeta = metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"}
	return json.Marshal(pod)
}

// deleteAllPods empties the bench namespace and checks that it is empty.
// The grace period is 0: the pods are bound to nodes without an agent, which
// would never confirm a graceful deletion.
func deleteAllPods(ctx context.Context, cs kubernetes.Interface) error {
	ctx, cancel := context.WithTimeout(ctx, deleteTimeout)
	defer cancel()
	pods := cs.CoreV1().Pods(benchNamespace)
	if err := pods.DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}, metav1.ListOptions{}); err != nil {
		return fmt.Errorf("delete the pods in %s: %w", benchNamespace, err)
	}
	list, err := pods.List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list the pods in %s: %w", benchNamespace, err)
	}
	if len(list.Items) != 0 {
		return fmt.Errorf("%d pods left in %s after deletecollection", len(list.Items), benchNamespace)
	}
	return nil
}

// listClient is a clientset that asks for one media type only, and checks
// that the server answered with it.
type listClient struct {
	cs    kubernetes.Interface
	hc    *http.Client // cs's connection
	check *contentTypeCheck
}

func newListClient(cfg *rest.Config, media string) (*listClient, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.ContentType, cfg.AcceptContentTypes = media, media
	check := &contentTypeCheck{want: media}
	cfg.WrapTransport = check.wrap
	cs, hc, err := newClientset(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s clientset: %w", media, err)
	}
	return &listClient{cs: cs, hc: hc, check: check}, nil
}

// listQuery is one kind of list the bench measures.
type listQuery struct {
	namespace string // "" for every namespace
	opts      metav1.ListOptions
	want      int // pods the list must hold
}

// everyPod lists the bench namespace whole.
func everyPod(want int) listQuery { return listQuery{namespace: benchNamespace, want: want} }

// listPods runs q `lists` times after one unmeasured warm-up, checking
// that each list holds q.want pods.
func (c *listClient) listPods(ctx context.Context, q listQuery, lists int) (stats.Summary, error) {
	list := func(ctx context.Context, _, _ int) error {
		ctx, cancel := context.WithTimeout(ctx, opTimeout)
		defer cancel()
		l, err := c.cs.CoreV1().Pods(q.namespace).List(ctx, q.opts)
		if err != nil {
			return fmt.Errorf("list pods in %q %+v (%s): %w", q.namespace, q.opts, c.check.want, err)
		}
		if len(l.Items) != q.want {
			return fmt.Errorf("list pods in %q %+v: %d pods, want %d", q.namespace, q.opts, len(l.Items), q.want)
		}
		return nil
	}
	if err := list(ctx, 0, 0); err != nil {
		return stats.Summary{}, err
	}
	s, err := measure(ctx, lists, 1, list)
	if err != nil {
		return s, err
	}
	return s, c.check.err()
}

// contentTypeCheck remembers the first successful response whose
// Content-Type is not the wanted one.
type contentTypeCheck struct {
	want string
	bad  atomic.Pointer[string]
}

func (c *contentTypeCheck) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(r)
		if err == nil && resp.StatusCode == http.StatusOK {
			if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, c.want) {
				c.bad.CompareAndSwap(nil, &got)
			}
		}
		return resp, err
	})
}

func (c *contentTypeCheck) err() error {
	if got := c.bad.Load(); got != nil {
		return fmt.Errorf("asked for %s, the server answered %q", c.want, *got)
	}
	return nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
