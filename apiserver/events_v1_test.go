package apiserver

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// events.k8s.io/v1 and core/v1 serve the same Events: what one writes the
// other reads, in its own shape, through GET, LIST (with field selectors)
// and WATCH; an events.k8s.io Event must carry kube's required fields.
func TestEventsV1SharesCoreEvents(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	cs := ts.admin(t)
	w, err := cs.EventsV1().Events("default").Watch(bg, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	now := metav1.NewMicroTime(time.Now().Truncate(time.Microsecond))
	ev := &eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Name: "scheduled.1", Namespace: "default"},
		EventTime: now, ReportingController: "default-scheduler", ReportingInstance: "sched-1", Action: "Binding", Reason: "Scheduled",
		Regarding: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web"}, Note: "assigned default/web to n1", Type: "Normal"}
	if _, err := cs.EventsV1().Events("default").Create(bg, ev, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	core, err := cs.CoreV1().Events("default").Get(bg, "scheduled.1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if core.InvolvedObject.Name != "web" || core.Message != "assigned default/web to n1" || core.ReportingController != "default-scheduler" || core.Action != "Binding" {
		t.Errorf("core view: %+v", core)
	}
	classic := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "pulled.1", Namespace: "default"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "db"}, Reason: "Pulled", Message: "pulled",
		Source: corev1.EventSource{Component: "kubelet", Host: "n1"}, Count: 2, Type: "Normal"}
	if _, err := cs.CoreV1().Events("default").Create(bg, classic, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := cs.EventsV1().Events("default").Get(bg, "pulled.1", metav1.GetOptions{})
	if err != nil || got.Regarding.Name != "db" || got.Note != "pulled" || got.DeprecatedCount != 2 || got.DeprecatedSource.Host != "n1" {
		t.Errorf("events.k8s.io view: %v %+v", err, got)
	}
	list, err := cs.EventsV1().Events("").List(bg, metav1.ListOptions{FieldSelector: "regarding.name=web"})
	if err != nil || len(list.Items) != 1 || list.Items[0].Name != "scheduled.1" {
		t.Errorf("field selector regarding.name=web: %v %+v", err, list)
	}
	seen := map[string]bool{}
	deadline := time.After(10 * time.Second)
	for len(seen) < 2 {
		select {
		case e := <-w.ResultChan():
			if o, ok := e.Object.(*eventsv1.Event); ok && e.Type == watch.Added {
				seen[o.Name+" "+o.Regarding.Name] = true
			}
		case <-deadline:
			t.Fatalf("watch saw %v", seen)
		}
	}
	if !seen["scheduled.1 web"] || !seen["pulled.1 db"] {
		t.Errorf("watch saw %v", seen)
	}
	bad := ev.DeepCopy()
	bad.Name, bad.EventTime = "bad", metav1.MicroTime{}
	_, err = cs.EventsV1().Events("default").Create(bg, bad, metav1.CreateOptions{})
	wantInvalidParts(t, err, "eventTime: Required value")
	bad.EventTime, bad.ReportingController, bad.Action = now, "", ""
	_, err = cs.EventsV1().Events("default").Create(bg, bad, metav1.CreateOptions{})
	wantInvalidParts(t, err, "reportingComponent: Required value", "action: Required value")
}
