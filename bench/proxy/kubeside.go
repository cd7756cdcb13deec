package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/nodeagent/nodeagent/bench/internal/kubeanchor"
	"github.com/nodeagent/nodeagent/lab"
)

// The anchor's objects: the bench's Services live in benchNS; kube-proxy
// runs as the Node kubeNodeName (whose address it waits for), as
// system:kube-proxy, which kube-apiserver's bootstrap RBAC binds to
// system:node-proxier.
const (
	benchNS       = "bench"
	kubeNodeName  = "bench-node"
	kubeNodeIP    = "192.0.2.10" // TEST-NET-1: only named in rules, never contacted
	kubeProxyUser = "system:kube-proxy"
	// createWorkers bounds the concurrent creates when loading Services.
	createWorkers = 16
)

// kubeSide is what kube-proxy is measured on, for the whole run: a lab
// node whose loopback holds etcd and kube-apiserver (the anchor), and in
// which each kube-proxy runs in turn.
type kubeSide struct {
	bin        string // kube-proxy
	ours       string // nodeagent ("": its proxy is not run here)
	version    string // its --version
	node       *lab.Node
	anchor     *kubeanchor.Anchor
	cs         kubernetes.Interface
	kubeconfig string // system:kube-proxy's
	metrics    *http.Client
	services   int // bench Services in the anchor, svc-0 to svc-<services-1>
}

// startKubeSide brings up the lab node and the anchor in it, and makes the
// namespace and the Node. On error nothing is left behind.
func startKubeSide(ctx context.Context, bins kubeBins) (*kubeSide, error) {
	b := make([]byte, 4)
	rand.Read(b)
	node, err := lab.Up(lab.DefaultConfig("bench-kp-" + hex.EncodeToString(b)))
	if err != nil {
		return nil, err
	}
	k := &kubeSide{bin: bins.proxy, ours: bins.ours, node: node,
		metrics: &http.Client{Transport: &http.Transport{Proxy: nil, DialContext: node.DialContext}}}
	if err := k.start(ctx, bins); err != nil {
		return nil, errors.Join(err, k.down())
	}
	return k, nil
}

func (k *kubeSide) start(ctx context.Context, bins kubeBins) error {
	var err error
	k.version = kubeanchor.Version(ctx, bins.proxy)
	k.anchor, err = kubeanchor.Start(ctx, bins.anchor, kubeanchor.Options{Start: k.node.Start, Dial: k.node.DialContext})
	if err != nil {
		return fmt.Errorf("anchor: %w", err)
	}
	if k.kubeconfig, err = k.anchor.PKI().ClientKubeconfig("kube-proxy", k.anchor.URL(), kubeProxyUser); err != nil {
		return err
	}
	cfg, err := k.anchor.RESTConfig()
	if err != nil {
		return err
	}
	if k.cs, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	return k.makeNodeAndNamespace(ctx)
}

// makeNodeAndNamespace creates the bench namespace and kube-proxy's Node
// with an InternalIP (kube-proxy waits for its Node's addresses).
func (k *kubeSide) makeNodeAndNamespace(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNS}}
	if _, err := k.cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("anchor: create namespace %s: %w", benchNS, err)
	}
	node, err := k.cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: kubeNodeName}}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("anchor: create node %s: %w", kubeNodeName, err)
	}
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: kubeNodeIP}}
	if _, err := k.cs.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("anchor: node %s status: %w", kubeNodeName, err)
	}
	return nil
}

// down runs `kube-proxy --cleanup` (a failed run may have left rules),
// stops the anchor and removes the lab node (with anything else left in
// it).
func (k *kubeSide) down() error {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupBound)
	defer cancel()
	_, err := k.cleanup(ctx, k.kubeProxy())
	errs := []error{err}
	if k.ours != "" {
		_, err := k.cleanup(ctx, k.nodeagentProxy())
		errs = append(errs, err)
	}
	if k.anchor != nil {
		errs = append(errs, k.anchor.Stop())
	}
	k.metrics.CloseIdleConnections()
	errs = append(errs, k.node.Down())
	return errors.Join(errs...)
}

// load brings the anchor to n bench Services (it only grows), each with
// an EndpointSlice of 3 ready endpoints, as the bench's own snapshot has
// (svc-0 is named svc-target there; here all are svc-<i>).
func (k *kubeSide) load(ctx context.Context, n int) error {
	if n <= k.services {
		return nil
	}
	err := forEach(ctx, k.services, n, createWorkers, func(ctx context.Context, i int) error {
		return k.createService(ctx, fmt.Sprintf("svc-%d", i), i)
	})
	if err != nil {
		return err
	}
	k.services = n
	return nil
}

// createService creates Service name and its EndpointSlice with the
// endpoints of Service i.
func (k *kubeSide) createService(ctx context.Context, name string, i int) error {
	if _, err := k.cs.CoreV1().Services(benchNS).Create(ctx, benchService(name), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("anchor: create service %s: %w", name, err)
	}
	if _, err := k.cs.DiscoveryV1().EndpointSlices(benchNS).Create(ctx, benchSlice(name, i), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("anchor: create endpointslice %s: %w", name, err)
	}
	return nil
}

// deleteService removes Service name and its EndpointSlice.
func (k *kubeSide) deleteService(ctx context.Context, name string) error {
	err := k.cs.CoreV1().Services(benchNS).Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("anchor: delete service %s: %w", name, err)
	}
	err = k.cs.DiscoveryV1().EndpointSlices(benchNS).Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("anchor: delete endpointslice %s: %w", name, err)
	}
	return nil
}

// moveEndpoint moves the last endpoint of Service svc-<i> to a new address
// (version v), as one pod replaced by another would.
func (k *kubeSide) moveEndpoint(ctx context.Context, i, v int) error {
	name := fmt.Sprintf("svc-%d", i)
	es, err := k.cs.DiscoveryV1().EndpointSlices(benchNS).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("anchor: get endpointslice %s: %w", name, err)
	}
	es.Endpoints[len(es.Endpoints)-1].Addresses = []string{endpointIP(1_000_000+v, 0)}
	if _, err := k.cs.DiscoveryV1().EndpointSlices(benchNS).Update(ctx, es, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("anchor: update endpointslice %s: %w", name, err)
	}
	return nil
}

// benchService is a ClusterIP Service with one TCP port 80 -> 8080 (the
// cluster IP allocated by kube-apiserver).
func benchService(name string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: benchNS},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP,
			Port: 80, TargetPort: intstr.FromInt32(8080)}}},
	}
}

// benchSlice is the EndpointSlice an EndpointSlice controller would make
// for Service name with 3 ready endpoints (those of Service i).
func benchSlice(name string, i int) *discoveryv1.EndpointSlice {
	es := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: benchNS,
			Labels: map[string]string{discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: "nodeagent-bench"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
	for j := 0; j < 3; j++ {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{endpointIP(i, j)},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}, NodeName: ptr.To(otherNode(j))})
	}
	return es
}

// forEach runs fn for every i in [from, to) on up to workers goroutines
// and returns the first error (the rest are skipped after it).
func forEach(ctx context.Context, from, to, workers int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for i := range next {
				if err := fn(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
	for i := from; i < to && ctx.Err() == nil; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}
