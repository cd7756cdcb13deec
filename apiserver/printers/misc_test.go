package printers

import (
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestSimpleRows(t *testing.T) {
	tests := []struct {
		resource string
		obj      runtime.Object
		header   string
		want     []interface{}
	}{
		{"namespaces", &corev1.Namespace{ObjectMeta: objectMeta("kube-system"), Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
			"NAME | STATUS | AGE", []interface{}{"kube-system", "Active", "10m"}},
		{"configmaps", &corev1.ConfigMap{ObjectMeta: objectMeta("cfg"), Data: map[string]string{"a": "1", "b": "2"},
			BinaryData: map[string][]byte{"c": {0}}},
			"NAME | DATA | AGE", []interface{}{"cfg", int64(3), "10m"}},
		{"secrets", &corev1.Secret{ObjectMeta: objectMeta("tls"), Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": nil, "tls.key": nil}},
			"NAME | TYPE | DATA | AGE", []interface{}{"tls", "kubernetes.io/tls", int64(2), "10m"}},
		{"serviceaccounts", &corev1.ServiceAccount{ObjectMeta: objectMeta("default")},
			"NAME | SECRETS | AGE", []interface{}{"default", int64(0), "10m"}},
		{"serviceaccounts", &corev1.ServiceAccount{ObjectMeta: objectMeta("builder"), Secrets: []corev1.ObjectReference{{Name: "token"}}},
			"NAME | SECRETS | AGE", []interface{}{"builder", int64(1), "10m"}},
		{"leases", &coordinationv1.Lease{ObjectMeta: objectMeta("node-1"), Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr("node-1")}},
			"NAME | HOLDER | AGE", []interface{}{"node-1", "node-1", "10m"}},
		{"leases", &coordinationv1.Lease{ObjectMeta: objectMeta("free")},
			"NAME | HOLDER | AGE", []interface{}{"free", "", "10m"}},
	}
	for _, tt := range tests {
		t.Run(tt.resource, func(t *testing.T) {
			p, _ := For(tt.resource)
			if got := header(p.Columns(), true); got != tt.header {
				t.Errorf("header %q, want %q", got, tt.header)
			}
			checkCells(t, row(t, tt.resource, tt.obj), tt.want)
		})
	}
}

func TestAge(t *testing.T) {
	tests := []struct {
		created metav1.Time
		want    string
	}{
		{metav1.Time{}, "<unknown>"},
		{ago(5 * time.Second), "5s"},
		{ago(119 * time.Second), "119s"},
		{ago(2*time.Minute + 3*time.Second), "2m3s"},
		{ago(10 * time.Minute), "10m"},
		{ago(3*time.Hour + 4*time.Minute), "3h4m"},
		{ago(20 * time.Hour), "20h"},
		{ago(51 * time.Hour), "2d3h"},
		{ago(400 * 24 * time.Hour), "400d"},
		{ago(-time.Second), "0s"},
		{ago(-time.Minute), "<invalid>"},
	}
	for _, tt := range tests {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "x", CreationTimestamp: tt.created}}
		if got := cell(t, "namespaces", ns, "AGE"); got != tt.want {
			t.Errorf("age of %v: %q, want %q", now.Sub(tt.created.Time), got, tt.want)
		}
	}
}

func event(edit func(*corev1.Event)) *corev1.Event {
	e := &corev1.Event{
		ObjectMeta:     objectMeta("web.17a1b2c3d4"),
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web", FieldPath: "spec.containers{app}"},
		Type:           corev1.EventTypeWarning,
		Reason:         "BackOff",
		Message:        "Back-off restarting failed container\n",
		Source:         corev1.EventSource{Component: "kubelet", Host: "node-1"},
		FirstTimestamp: ago(time.Hour),
		LastTimestamp:  ago(30 * time.Second),
		Count:          7,
	}
	edit(e)
	return e
}

func TestEventRow(t *testing.T) {
	tests := []struct {
		name string
		ev   *corev1.Event
		want []interface{}
	}{
		{name: "core event", ev: event(func(*corev1.Event) {}),
			want: []interface{}{"30s", "Warning", "BackOff", "pod/web", "spec.containers{app}", "kubelet, node-1",
				"Back-off restarting failed container", "60m", int64(7), "web.17a1b2c3d4"}},
		{name: "events.k8s.io singleton", ev: event(func(e *corev1.Event) {
			e.FirstTimestamp, e.LastTimestamp, e.Count = metav1.Time{}, metav1.Time{}, 0
			e.EventTime = metav1.NewMicroTime(now.Add(-90 * time.Second))
			e.Source = corev1.EventSource{}
			e.ReportingController, e.ReportingInstance = "default-scheduler", "scheduler-1"
			e.InvolvedObject = corev1.ObjectReference{Kind: "Node"}
		}), want: []interface{}{"90s", "Warning", "BackOff", "node", "", "default-scheduler, scheduler-1",
			"Back-off restarting failed container", "90s", int64(1), "web.17a1b2c3d4"}},
		{name: "series", ev: event(func(e *corev1.Event) {
			e.Series = &corev1.EventSeries{Count: 12, LastObservedTime: metav1.NewMicroTime(now.Add(-5 * time.Second))}
			e.Source.Host = ""
		}), want: []interface{}{"5s", "Warning", "BackOff", "pod/web", "spec.containers{app}", "kubelet",
			"Back-off restarting failed container", "60m", int64(12), "web.17a1b2c3d4"}},
		{name: "no times at all", ev: event(func(e *corev1.Event) {
			e.FirstTimestamp, e.LastTimestamp = metav1.Time{}, metav1.Time{}
		}), want: []interface{}{"<unknown>", "Warning", "BackOff", "pod/web", "spec.containers{app}", "kubelet, node-1",
			"Back-off restarting failed container", "<unknown>", int64(7), "web.17a1b2c3d4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkCells(t, row(t, "events", tt.ev), tt.want)
		})
	}
}

func TestEventColumns(t *testing.T) {
	p, _ := For("events")
	if got, want := header(p.Columns(), false), "LAST SEEN | TYPE | REASON | OBJECT | MESSAGE"; got != want {
		t.Errorf("header %q, want %q", got, want)
	}
	want := "LAST SEEN | TYPE | REASON | OBJECT | SUBOBJECT | SOURCE | MESSAGE | FIRST SEEN | COUNT | NAME"
	if got := header(p.Columns(), true); got != want {
		t.Errorf("wide header %q, want %q", got, want)
	}
}

func TestDefaultPrinter(t *testing.T) {
	p, ok := For("widgets")
	if ok {
		t.Fatal("For(widgets) found a dedicated printer")
	}
	cols := p.Columns()
	if got, want := header(cols, true), "NAME | CREATED AT"; got != want {
		t.Errorf("header %q, want %q", got, want)
	}
	if cols[1].Type != "date" {
		t.Errorf("CREATED AT type %q, want date", cols[1].Type)
	}
	obj := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "w",
		CreationTimestamp: metav1.NewTime(time.Date(2025, 5, 31, 14, 30, 0, 0, time.FixedZone("CEST", 2*3600)))}}
	cells, err := p.Row(obj, now)
	if err != nil {
		t.Fatal(err)
	}
	checkCells(t, cells, []interface{}{"w", "2025-05-31T12:30:00Z"})
}
