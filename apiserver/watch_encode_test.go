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
)

// countingEncoder writes the object's name and counts its calls.
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
	_, err := io.WriteString(w, name)
	return err
}

func (c *countingEncoder) Identifier() runtime.Identifier { return "counting" }

func TestAnObjectIsEncodedOnceForAllItsWatches(t *testing.T) {
	enc := &countingEncoder{}
	info := runtime.SerializerInfo{MediaType: mediaJSON, Serializer: enc}
	e := newEncodings(4)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}}
	var wg sync.WaitGroup
	got := make([][]byte, 100)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			raw, err := e.encode(info, pod)
			if err != nil {
				t.Error(err)
			}
			got[i] = raw
		}()
	}
	wg.Wait()
	if n := enc.calls.Load(); n != 1 {
		t.Fatalf("100 watches of one object encoded it %d times, want 1", n)
	}
	for i, raw := range got {
		if !bytes.Equal(raw, []byte("web")) {
			t.Fatalf("watch %d got %q, want %q", i, raw, "web")
		}
	}

	other := runtime.SerializerInfo{MediaType: mediaProtobuf, Serializer: enc}
	if _, err := e.encode(other, pod); err != nil {
		t.Fatal(err)
	}
	if n := enc.calls.Load(); n != 2 {
		t.Fatalf("a second media type: %d encodings in all, want 2", n)
	}

	// An equal object that is not the same one is encoded on its own:
	// pointers, not contents, name what was encoded.
	twin := pod.DeepCopy()
	twin.Name = "twin"
	raw, err := e.encode(info, twin)
	if err != nil || string(raw) != "twin" || enc.calls.Load() != 3 {
		t.Fatalf("another object: %q, %v, %d encodings; want \"twin\" and 3", raw, err, enc.calls.Load())
	}
}

func TestEncodingsKeepABoundedWindow(t *testing.T) {
	enc := &countingEncoder{}
	info := runtime.SerializerInfo{MediaType: mediaJSON, Serializer: enc}
	e := newEncodings(3)
	pods := make([]*corev1.Pod, 5)
	encode := func(i int, wantCalls int64) {
		t.Helper()
		raw, err := e.encode(info, pods[i])
		if err != nil || string(raw) != pods[i].Name {
			t.Fatalf("pod %d: %q, %v", i, raw, err)
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
	info := runtime.SerializerInfo{MediaType: mediaJSON, Serializer: enc}
	e := newEncodings(4)
	for range 2 {
		if _, err := e.encode(info, valueObject{}); err != nil {
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
