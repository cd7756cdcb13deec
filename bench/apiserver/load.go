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

// newPod is the smallest valid pod; the server fills in the defaults.
func newPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: benchNamespace,
			Labels: map[string]string{"app": "nodeagent-bench"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: testImage}}},
	}
}

// newClientsets makes n clientsets, each with its own connection (see
// noProxy). They use client-go's default encoding, protobuf. closeIdle
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

// createPods creates n pods named prefix-NNNNN, spread over the clientsets
// (one worker each).
func createPods(ctx context.Context, css []kubernetes.Interface, prefix string, n int) (stats.Summary, error) {
	return measure(ctx, n, len(css), func(ctx context.Context, w, i int) error {
		return createPod(ctx, css[w], fmt.Sprintf("%s-%05d", prefix, i))
	})
}

func createPod(ctx context.Context, cs kubernetes.Interface, name string) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if _, err := cs.CoreV1().Pods(benchNamespace).Create(ctx, newPod(name), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create pod %s/%s: %w", benchNamespace, name, err)
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
func deleteAllPods(ctx context.Context, cs kubernetes.Interface) error {
	ctx, cancel := context.WithTimeout(ctx, deleteTimeout)
	defer cancel()
	pods := cs.CoreV1().Pods(benchNamespace)
	if err := pods.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
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

// listPods lists every pod in the namespace `lists` times after one
// unmeasured warm-up, checking that each list holds want pods.
func (c *listClient) listPods(ctx context.Context, want, lists int) (stats.Summary, error) {
	list := func(ctx context.Context, _, _ int) error {
		ctx, cancel := context.WithTimeout(ctx, opTimeout)
		defer cancel()
		l, err := c.cs.CoreV1().Pods(benchNamespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return fmt.Errorf("list pods in %s (%s): %w", benchNamespace, c.check.want, err)
		}
		if len(l.Items) != want {
			return fmt.Errorf("list pods in %s: %d pods, want %d", benchNamespace, len(l.Items), want)
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
