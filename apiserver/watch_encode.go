package apiserver

import (
	"bytes"
	"reflect"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
)

// sharedEncodings is how many (object, media type) encodings the server
// keeps for its watches. An event reaches every watch within moments, so
// the window need only cover the events in flight, not the cache; a watch
// further behind encodes for itself.
const sharedEncodings = 256

// encodings keeps the bytes of objects recently sent to watches, one per
// object and media type, so that an event fanned out to many watches is
// encoded once, as kube-apiserver's cachingObject does. An object is known
// by its pointer: the watch cache gives every watch the same object and
// never modifies it (storage.WatchOptions.Shared), and an entry keeps its
// object alive, so no other object can take its address while it is kept.
type encodings struct {
	mu    sync.Mutex
	byKey map[encodingKey]*encoding
	ring  []encodingKey // the keys in byKey, the oldest at next once full
	next  int
}

type encodingKey struct {
	obj   runtime.Object
	media string
}

// encoding is made by the first watch to ask; the others wait on once.
type encoding struct {
	once sync.Once
	raw  []byte
	err  error
}

func newEncodings(size int) *encodings {
	size = max(size, 1)
	return &encodings{byKey: make(map[encodingKey]*encoding, size), ring: make([]encodingKey, 0, size)}
}

// encode returns obj encoded by info's serializer, encoding it only if no
// watch did already. The bytes returned are shared: callers only read them.
func (e *encodings) encode(info runtime.SerializerInfo, obj runtime.Object) ([]byte, error) {
	if t := reflect.TypeOf(obj); t == nil || t.Kind() != reflect.Pointer {
		return runtime.Encode(info.Serializer, obj)
	}
	key := encodingKey{obj: obj, media: info.MediaType}
	e.mu.Lock()
	enc, ok := e.byKey[key]
	if !ok {
		enc = &encoding{}
		e.add(key, enc)
	}
	e.mu.Unlock()
	enc.once.Do(func() {
		raw, err := runtime.Encode(info.Serializer, obj)
		enc.raw, enc.err = bytes.Clone(raw), err // kept: no spare capacity
	})
	return enc.raw, enc.err
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
