package proxy

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
)

// recordingObserver writes down every call, in order.
type recordingObserver struct {
	mu    sync.Mutex
	calls []string
	snaps []*Snapshot
}

func (o *recordingObserver) add(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, s)
}

func (o *recordingObserver) ServiceChanged(svc types.NamespacedName) {
	o.add("service " + svc.String())
}
func (o *recordingObserver) EndpointsChanged(svc types.NamespacedName, t time.Time) {
	o.add(fmt.Sprintf("endpoints %s %s", svc, t.UTC().Format(time.RFC3339Nano)))
}
func (o *recordingObserver) NodeChanged(n *corev1.Node, deleted bool) {
	o.add(fmt.Sprintf("node %s deleted=%v", n.Name, deleted))
}
func (o *recordingObserver) Queued()      { o.add("queued") }
func (o *recordingObserver) SyncStarted() { o.add("started") }
func (o *recordingObserver) Synced(res SyncResult, snap *Snapshot) {
	o.mu.Lock()
	o.snaps = append(o.snaps, snap)
	o.mu.Unlock()
	o.add(fmt.Sprintf("synced full=%v err=%v", res.Full, res.Err != nil))
}

func (o *recordingObserver) get() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.calls)
}

// TestRunnerTellsTheObserver: a change is queued; each sync starts after
// its snapshot and ends with the result and that snapshot.
func TestRunnerTellsTheObserver(t *testing.T) {
	obs := &recordingObserver{}
	h := startLoopWith(t, obs)
	h.next()
	h.waitIdle()
	h.backend.fail = true
	h.runner.Changed()
	h.clock.Step(time.Second)
	h.next()
	want := []string{"started", "synced full=true err=false", "queued", "started", "synced full=false err=true"}
	if got := obs.get(); !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
	if obs.snaps[0] == nil || obs.snaps[0] == obs.snaps[1] {
		t.Errorf("each sync hands its own snapshot: %p %p", obs.snaps[0], obs.snaps[1])
	}
}

// TestProxyTellsTheObserverWhatChanged: Services and EndpointSlices by
// their Service (with the slice's trigger time), and this node's Node.
func TestProxyTellsTheObserverWhatChanged(t *testing.T) {
	obs := &recordingObserver{}
	p, err := New(fake.NewClientset(), &recordingBackend{}, Options{NodeName: "n1", Runner: DefaultRunnerConfig(), Observer: obs},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"}}
	p.onService(svc, false)
	slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web-abc",
		Labels:      map[string]string{discoveryv1.LabelServiceName: "web"},
		Annotations: map[string]string{corev1.EndpointsLastChangeTriggerTime: "2026-12-06T10:00:00.5Z"}},
		AddressType: discoveryv1.AddressTypeIPv4}
	p.onSlice(slice, false)
	untimed := slice.DeepCopy()
	untimed.Annotations = nil
	p.onSlice(cache.DeletedFinalStateUnknown{Key: "default/web-abc", Obj: untimed}, false)
	p.onNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}, true)
	want := []string{"service default/web", "queued", "endpoints default/web 2026-12-06T10:00:00.5Z", "queued",
		"endpoints default/web 0001-01-01T00:00:00Z", "queued", "node n1 deleted=true"}
	if got := obs.get(); !slices.Equal(got, want) {
		t.Errorf("calls\n%q\nwant\n%q", got, want)
	}
}
