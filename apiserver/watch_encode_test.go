package apiserver

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"
	"k8s.io/apimachinery/pkg/watch"
)

// countingEncoder writes the object's name as a JSON string and counts
// its calls.
type countingEncoder struct {
	runtime.Serializer
	calls atomic.Int64
}

func (c *countingEncoder) Encode(obj runtime.Object, w io.Writer) error {
	c.calls.Add(1)
	name := "value"
	if m, ok := obj.(metav1.Object); ok {
		name = m.GetName()
	}
	_, err := io.WriteString(w, `"`+name+`"`)
	return err
}

func (c *countingEncoder) Identifier() runtime.Identifier { return "counting" }

// countingInfo encodes objects with enc and frames their events as a JSON
// watch stream does: one WatchEvent per line.
func countingInfo(media string, enc *countingEncoder) runtime.SerializerInfo {
	stream := json.NewSerializerWithOptions(json.DefaultMetaFactory, nil, nil, json.SerializerOptions{})
	return runtime.SerializerInfo{MediaType: media, Serializer: enc,
		StreamSerializer: &runtime.StreamSerializerInfo{Serializer: stream, Framer: json.Framer}}
}

// added is the frame of an ADDED event for the object named name.
func added(name string) string { return `{"type":"ADDED","object":"` + name + `"}` + "\n" }

func TestAnObjectIsEncodedOnceForAllItsWatches(t *testing.T) {
	enc := &countingEncoder{}
	info := countingInfo(mediaJSON, enc)
	e := newEncodings(4)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}}
	var wg sync.WaitGroup
	got := make([][]byte, 100)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			frame, err := e.event(info, watch.Added, pod)
			if err != nil {
				t.Error(err)
			}
			got[i] = frame
		}()
	}
	wg.Wait()
	if n := enc.calls.Load(); n != 1 {
		t.Fatalf("100 watches of one object encoded it %d times, want 1", n)
	}
	for i, frame := range got {
		if !bytes.Equal(frame, []byte(added("web"))) {
			t.Fatalf("watch %d got %q, want %q", i, frame, added("web"))
		}
	}

	other := countingInfo(mediaProtobuf, enc)
	if _, err := e.event(other, watch.Added, pod); err != nil {
		t.Fatal(err)
	}
	if n := enc.calls.Load(); n != 2 {
		t.Fatalf("a second media type: %d encodings in all, want 2", n)
	}

	// The same object in an event of another type is another frame.
	frame, err := e.event(info, watch.Modified, pod)
	if want := `{"type":"MODIFIED","object":"web"}` + "\n"; err != nil || string(frame) != want || enc.calls.Load() != 3 {
		t.Fatalf("a MODIFIED event: %q, %v, %d encodings; want %q and 3", frame, err, enc.calls.Load(), want)
	}

	// An equal object that is not the same one is encoded on its own:
	// pointers, not contents, name what was encoded.
	twin := pod.DeepCopy()
	twin.Name = "twin"
	frame, err = e.event(info, watch.Added, twin)
	if err != nil || string(frame) != added("twin") || enc.calls.Load() != 4 {
		t.Fatalf("another object: %q, %v, %d encodings; want %q and 4", frame, err, enc.calls.Load(), added("twin"))
	}
}

func TestEncodingsKeepABoundedWindow(t *testing.T) {
	enc := &countingEncoder{}
	info := countingInfo(mediaJSON, enc)
	e := newEncodings(3)
	pods := make([]*corev1.Pod, 5)
	encode := func(i int, wantCalls int64) {
		t.Helper()
		frame, err := e.event(info, watch.Added, pods[i])
		if err != nil || string(frame) != added(pods[i].Name) {
			t.Fatalf("pod %d: %q, %v", i, frame, err)
		}
		if n := enc.calls.Load(); n != wantCalls {
			t.Fatalf("after pod %d: %d encodings, want %d", i, n, wantCalls)
		}
	}
	for i := range pods {
		pods[i] = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("p", i)}}
		encode(i, int64(i+1))
	}
	if len(e.byKey) != 3 || len(e.ring) != 3 {
		t.Fatalf("kept %d entries (ring %d), want 3", len(e.byKey), len(e.ring))
	}
	// The newest three are kept; the two oldest were dropped.
	encode(2, 5)
	encode(3, 5)
	encode(4, 5)
	encode(0, 6) // drops p2, the oldest kept
	encode(3, 6)
	encode(2, 7)
}

func TestAValueObjectIsEncodedEachTime(t *testing.T) {
	enc := &countingEncoder{}
	info := countingInfo(mediaJSON, enc)
	e := newEncodings(4)
	for range 2 {
		if _, err := e.event(info, watch.Added, valueObject{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := enc.calls.Load(); n != 2 || len(e.byKey) != 0 {
		t.Fatalf("%d encodings, %d kept; want 2 and none kept", n, len(e.byKey))
	}
}

// valueObject is a runtime.Object that is not a pointer: it cannot name
// one object, so its encoding is never kept.
type valueObject struct{}

func (valueObject) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }
func (v valueObject) DeepCopyObject() runtime.Object { return v }

// TestSharedFramesAreWatchStreamEvents reads a kept frame back as a client
// reads a watch stream, for each media type the server streams: the frame
// is one whole event, of the type asked, carrying the object.
func TestSharedFramesAreWatchStreamEvents(t *testing.T) {
	c := newCodecs()
	pod := &corev1.Pod{TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", ResourceVersion: "7"},
		Spec:       corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "pause"}}}}
	for _, media := range []string{mediaJSON, mediaProtobuf} {
		info, ok := c.info(media)
		if !ok || info.StreamSerializer == nil {
			t.Fatalf("%s: no stream serializer", media)
		}
		e := newEncodings(4)
		frame, err := e.event(info, watch.Modified, pod)
		if err != nil {
			t.Fatalf("%s: %v", media, err)
		}
		stream := info.StreamSerializer
		dec := streaming.NewDecoder(stream.Framer.NewFrameReader(io.NopCloser(bytes.NewReader(frame))), stream.Serializer)
		var got metav1.WatchEvent
		if _, _, err := dec.Decode(nil, &got); err != nil {
			t.Fatalf("%s: the frame does not read back as a watch event: %v", media, err)
		}
		obj, err := runtime.Decode(info.Serializer, got.Object.Raw)
		if err != nil {
			t.Fatalf("%s: the event's object: %v", media, err)
		}
		back, ok := obj.(*corev1.Pod)
		if got.Type != string(watch.Modified) || !ok || back.Name != "web" || back.ResourceVersion != "7" || back.Spec.NodeName != "n1" {
			t.Fatalf("%s: read back %s %#v", media, got.Type, obj)
		}
		if _, _, err := dec.Decode(nil, &got); err != io.EOF {
			t.Fatalf("%s: after the one event: %v, want EOF", media, err)
		}
	}
}
