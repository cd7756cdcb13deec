package healthcheck

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/nodeagent/nodeagent/proxy"
)

const timeout = 60 * time.Second

type harness struct {
	t     *testing.T
	clock *clocktesting.FakeClock
	s     *Server
	h     http.Handler
}

func newHarness(t *testing.T) *harness {
	clk := clocktesting.NewFakeClock(time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC))
	s, err := New(timeout, prometheus.NewRegistry(), clk)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, clock: clk, s: s, h: s.Handler()}
}

// get asks path and decodes the answer.
func (h *harness) get(path string) (int, answer) {
	h.t.Helper()
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	var a answer
	if rec.Code != http.StatusNotFound {
		if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
			h.t.Fatalf("%s: %q: %v", path, rec.Body.String(), err)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			h.t.Errorf("%s: Content-Type %q", path, ct)
		}
	}
	return rec.Code, a
}

func (h *harness) expect(path string, code int) answer {
	h.t.Helper()
	got, a := h.get(path)
	if got != code {
		h.t.Fatalf("%s at %s: %d, want %d (%+v)", path, h.clock.Now().Format(time.TimeOnly), got, code, a)
	}
	return a
}

// sync is one sync of the loop: it takes the waiting changes, then ends.
func (h *harness) sync(err error) {
	h.s.SyncStarted()
	h.clock.Step(time.Second)
	h.s.Synced(proxy.SyncResult{Err: err}, nil)
}

func TestHealthyWhileStartingUp(t *testing.T) {
	h := newHarness(t)
	h.s.Queued()
	h.clock.Step(10 * time.Minute) // a first sync that takes long (10,000 services)
	h.expect("/healthz", 200)
	h.expect("/livez", 200)
}

func TestUnhealthyWhenAChangeWaitsTooLong(t *testing.T) {
	h := newHarness(t)
	h.sync(nil)
	synced := h.clock.Now()
	h.clock.Step(5 * time.Minute) // nothing to do is healthy
	if a := h.expect("/healthz", 200); !a.LastUpdated.Equal(h.clock.Now()) || !a.CurrentTime.Equal(h.clock.Now()) {
		t.Errorf("healthy answer %+v: lastUpdated is the current time, as kube-proxy's", a)
	}
	h.s.Queued()
	h.clock.Step(timeout - time.Second)
	h.expect("/healthz", 200)
	h.clock.Step(time.Second)
	a := h.expect("/healthz", 503)
	if !a.LastUpdated.Equal(synced) || !a.CurrentTime.Equal(h.clock.Now()) {
		t.Errorf("unhealthy answer %+v: want lastUpdated %s", a, synced)
	}
	h.expect("/livez", 503)
	h.sync(nil)
	h.expect("/healthz", 200)
}

func TestAFailedSyncLeavesItsChangesWaiting(t *testing.T) {
	h := newHarness(t)
	h.sync(nil)
	h.s.Queued()
	h.sync(errors.New("iptables-restore: exit status 1"))
	h.clock.Step(timeout)
	h.expect("/healthz", 503)
	h.sync(errors.New("again"))
	h.expect("/healthz", 503)
	h.sync(nil)
	h.expect("/healthz", 200)
}

// TestChangeDuringASync: a change that arrives while a sync runs is not
// in that sync, and is still waiting after it.
func TestChangeDuringASync(t *testing.T) {
	h := newHarness(t)
	h.sync(nil)
	h.s.SyncStarted()
	h.s.Queued()
	h.s.Synced(proxy.SyncResult{}, nil)
	h.clock.Step(timeout)
	h.expect("/healthz", 503)
}

func TestNodeBeingDeletedFailsHealthzNotLivez(t *testing.T) {
	h := newHarness(t)
	h.sync(nil)
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}
	h.s.NodeChanged(node, false)
	if a := h.expect("/healthz", 200); a.NodeEligible == nil || !*a.NodeEligible {
		t.Errorf("eligible node: %+v", a)
	}
	tainted := node.DeepCopy()
	tainted.Spec.Taints = []corev1.Taint{{Key: ToBeDeletedTaint, Effect: corev1.TaintEffectNoSchedule}}
	h.s.NodeChanged(tainted, false)
	if a := h.expect("/healthz", 503); a.NodeEligible == nil || *a.NodeEligible {
		t.Errorf("tainted node: %+v", a)
	}
	if a := h.expect("/livez", 200); a.NodeEligible != nil {
		t.Errorf("/livez says nothing of the node: %+v", a)
	}
	h.s.NodeChanged(node, false)
	h.expect("/healthz", 200)
	deleting := node.DeepCopy()
	deleting.DeletionTimestamp = &metav1.Time{Time: h.clock.Now()}
	h.s.NodeChanged(deleting, false)
	h.expect("/healthz", 503)
	h.s.NodeChanged(node, true)
	h.expect("/healthz", 503)
}

// TestServesNothingElse: the port has no credentials, so it serves the two
// health paths alone, to GET alone.
func TestServesNothingElse(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{"GET", "/metrics", 404}, {"GET", "/", 404}, {"GET", "/healthz/x", 404}, {"GET", "/proxyMode", 404},
		{"POST", "/healthz", 405}, {"DELETE", "/livez", 405},
	} {
		rec := httptest.NewRecorder()
		h.h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.code {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, rec.Code, tc.code)
		}
	}
}

func TestCountsAnswersByCode(t *testing.T) {
	h := newHarness(t)
	h.sync(nil)
	h.expect("/healthz", 200)
	h.expect("/healthz", 200)
	h.s.Queued()
	h.clock.Step(timeout)
	h.expect("/healthz", 503)
	h.expect("/livez", 503)
	for _, c := range []struct {
		vec  *prometheus.CounterVec
		code string
		want float64
	}{{h.s.healthz, "200", 2}, {h.s.healthz, "503", 1}, {h.s.livez, "503", 1}, {h.s.livez, "200", 0}} {
		if got := testutil.ToFloat64(c.vec.WithLabelValues(c.code)); got != c.want {
			t.Errorf("code %s: %v, want %v", c.code, got, c.want)
		}
	}
}
