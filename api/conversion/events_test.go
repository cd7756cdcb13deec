package conversion

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Every field of an events.k8s.io/v1 Event survives the round trip
// through core/v1, and lands in the core field kube maps it to.
func TestEventRoundTrip(t *testing.T) {
	now := metav1.NewMicroTime(time.Unix(1700000000, 123000).UTC())
	e := &eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e", Namespace: "ns", Labels: map[string]string{"a": "b"}},
		EventTime: now, Series: &eventsv1.EventSeries{Count: 3, LastObservedTime: now},
		ReportingController: "example.com/ctl", ReportingInstance: "ctl-1", Action: "Sync", Reason: "Synced",
		Regarding: corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "p"}, Related: &corev1.ObjectReference{Kind: "Node", Name: "n"},
		Note: "synced", Type: "Normal", DeprecatedSource: corev1.EventSource{Component: "c", Host: "h"},
		DeprecatedFirstTimestamp: metav1.NewTime(time.Unix(1, 0)), DeprecatedLastTimestamp: metav1.NewTime(time.Unix(2, 0)), DeprecatedCount: 7}
	core := EventToCore(e)
	if core.InvolvedObject.Name != "p" || core.Message != "synced" || core.ReportingController != "example.com/ctl" ||
		core.Source.Host != "h" || core.Count != 7 || core.Series.Count != 3 || core.Related.Name != "n" {
		t.Errorf("core form: %+v", core)
	}
	if back := EventFromCore(core); !reflect.DeepEqual(back, e) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, e)
	}
}
