package apiserver

import (
	"bytes"
	"errors"
	"reflect"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"
	"k8s.io/apimachinery/pkg/watch"
)

// sharedEncodings is how many (object, media type, event type) encodings
// the server keeps for its watches. An event reaches every watch within
// moments, so the window need only cover the events in flight, not the
// cache; a watch further behind encodes for itself.
const sharedEncodings = 256

// encodings keeps the bytes of events recently sent to watches, one per
// object, media type and event type, framed as the watch stream writes
// them, so that an event fanned out to many watches is encoded once, as
// kube-apiserver's cachingObject does, and each watch writes it with one
// copy and no allocation. An object is known by its pointer: the watch
// cache gives every watch the same object and never modifies it
// (storage.WatchOptions.Shared), and an entry keeps its object alive, so
// no other object can take its address while it is kept.
type encodings struct {
	mu    sync.Mutex
	byKey map[encodingKey]*encoding
	ring  []encodingKey // the keys in byKey, the oldest at next once full
	next  int
}

type encodingKey struct {
	obj   runtime.Object
	media string
	typ   watch.EventType
}

// encoding is made by the first watch to ask; the others wait on once.
type encoding struct {
	once  sync.Once
	frame []byte
	err   error
}

func newEncodings(size int) *encodings {
	size = max(size, 1)
	return &encodings{byKey: make(map[encodingKey]*encoding, size), ring: make([]encodingKey, 0, size)}
}

// event returns the watch event of type typ carrying obj, framed as info's
// stream writes it, encoding it only if no watch did already. The bytes
// returned are shared: callers only read them.
func (e *encodings) event(info runtime.SerializerInfo, typ watch.EventType, obj runtime.Object) ([]byte, error) {
	if t := reflect.TypeOf(obj); t == nil || t.Kind() != reflect.Pointer {
		return encodeEvent(info, typ, obj)
	}
	key := encodingKey{obj: obj, media: info.MediaType, typ: typ}
	e.mu.Lock()
	enc, ok := e.byKey[key]
	if !ok {
		enc = &encoding{}
		e.add(key, enc)
	}
	e.mu.Unlock()
	enc.once.Do(func() {
		frame, err := encodeEvent(info, typ, obj)
		enc.frame, enc.err = bytes.Clone(frame), err // kept: no spare capacity
	})
	return enc.frame, enc.err
}

// encodeEvent is one watch event as info's stream writes it: obj encoded
// by info's serializer inside a WatchEvent, which the stream's serializer
// encodes and its framer frames.
func encodeEvent(info runtime.SerializerInfo, typ watch.EventType, obj runtime.Object) ([]byte, error) {
	stream := info.StreamSerializer
	if stream == nil {
		return nil, errors.New("no streaming encoding for " + info.MediaType)
	}
	raw, err := runtime.Encode(info.Serializer, obj)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := streaming.NewEncoder(stream.Framer.NewFrameWriter(&buf), stream.Serializer)
	if err := enc.Encode(&metav1.WatchEvent{Type: string(typ), Object: runtime.RawExtension{Raw: raw}}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// add keeps enc under key, dropping the oldest entry when full.
func (e *encodings) add(key encodingKey, enc *encoding) {
	if len(e.ring) < cap(e.ring) {
		e.ring = append(e.ring, key)
	} else {
		delete(e.byKey, e.ring[e.next])
		e.ring[e.next] = key
		e.next = (e.next + 1) % len(e.ring)
	}
	e.byKey[key] = enc
}
