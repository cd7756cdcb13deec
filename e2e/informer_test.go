//go:build linux && e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// eventLog counts what an informer's handler saw, per object uid, of the
// test's own ConfigMaps (cm-N; not kube-root-ca.crt, which the root CA
// publisher makes in every namespace, before or after the informer syncs).
type eventLog struct {
	mu      sync.Mutex
	adds    map[types.UID]int
	deletes map[types.UID]int
}

func (l *eventLog) count(m map[types.UID]int, obj any) {
	if cm, ok := obj.(*corev1.ConfigMap); ok && strings.HasPrefix(cm.Name, "cm-") {
		l.mu.Lock()
		m[cm.UID]++
		l.mu.Unlock()
	}
}

// TestInformerAcrossServerRestart: a client-go informer keeps an exact copy
// of the server's objects across a kill -9 and restart of the server, with
// no object added twice and no change missed.
func TestInformerAcrossServerRestart(t *testing.T) {
	requireAPIServerDeps(t)
	node := framework.NewLab(t)
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	kc, err := os.ReadFile(srv.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kc)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Dial = node.DialContext
	client := kubernetes.NewForConfigOrDie(cfg)
	cms := client.CoreV1().ConfigMaps("default")

	log := &eventLog{adds: map[types.UID]int{}, deletes: map[types.UID]int{}}
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace("default"))
	inf := factory.Core().V1().ConfigMaps().Informer()
	inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { log.count(log.adds, obj) },
		DeleteFunc: func(obj any) { log.count(log.deletes, obj) },
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("informer did not sync")
	}

	create := func(i int) {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%d", i)}, Data: map[string]string{"i": fmt.Sprint(i)}}
		if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 5; i++ {
		create(i)
	}
	framework.Eventually(t, 20*time.Second, 50*time.Millisecond, "informer sees the first objects", func() error {
		return sameState(ctx, cms, inf.GetStore())
	})

	srv.Kill9()
	srv.Start()
	for i := 5; i < 10; i++ {
		create(i)
	}
	if _, err := cms.Patch(ctx, "cm-0", types.MergePatchType, []byte(`{"data":{"i":"changed"}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx, "cm-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 60*time.Second, 100*time.Millisecond, "informer converges after the restart", func() error {
		return sameState(ctx, cms, inf.GetStore())
	})

	log.mu.Lock()
	defer log.mu.Unlock()
	for uid, n := range log.adds {
		if n != 1 {
			t.Errorf("object %s was added %d times", uid, n)
		}
	}
	if len(log.adds) != 10 || len(log.deletes) != 1 {
		t.Errorf("saw %d adds and %d deletes, want 10 and 1", len(log.adds), len(log.deletes))
	}
}

// sameState compares names and resourceVersions in the informer's store with
// a fresh list from the server.
func sameState(ctx context.Context, cms interface {
	List(context.Context, metav1.ListOptions) (*corev1.ConfigMapList, error)
}, store cache.Store) error {
	l, err := cms.List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	var want, got []string
	for _, c := range l.Items {
		want = append(want, c.Name+"@"+c.ResourceVersion)
	}
	for _, o := range store.List() {
		c := o.(*corev1.ConfigMap)
		got = append(got, c.Name+"@"+c.ResourceVersion)
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(want, ",") != strings.Join(got, ",") {
		return fmt.Errorf("server %v, informer %v", want, got)
	}
	return nil
}
