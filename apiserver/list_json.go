package apiserver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// jsonListChunk is how many items one worker encodes at a time.
const jsonListChunk = 64

// writeJSONList writes a page of a built-in resource as the JSON list
// kube-apiserver sends ({"kind":"PodList","apiVersion":"v1","metadata":
// {...},"items":[...]}), byte for byte what encoding the typed list gives,
// but streamed: the items are encoded in chunks by up to GOMAXPROCS (at
// most 4) workers and written in order as they are done, so a list of
// thousands is neither encoded on one core nor held whole in memory
// (kube-apiserver streams its JSON lists too, on one core). As for any
// response, an error once the status is sent leaves the body cut short.
func writeJSONList(w http.ResponseWriter, res *resource, page storage.ListResult) {
	meta, _ := json.Marshal(metav1.ListMeta{ResourceVersion: strconv.FormatInt(page.Revision, 10), Continue: page.Continue})
	gv := res.groupVersion()
	w.Header().Set("Content-Type", mediaJSON)
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 64<<10)
	kind, _ := json.Marshal(res.gvk.Kind + "List")
	apiVersion, _ := json.Marshal(gv.String())
	bw.WriteString(`{"kind":`)
	bw.Write(kind)
	bw.WriteString(`,"apiVersion":`)
	bw.Write(apiVersion)
	bw.WriteString(`,"metadata":`)
	bw.Write(meta)
	bw.WriteString(`,"items":[`)
	if writeJSONItems(bw, page.Items) != nil {
		return
	}
	bw.WriteString("]}\n")
	bw.Flush()
}

var jsonChunkBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writeJSONItems writes items comma-separated, each as encoding/json's
// Encoder writes it (HTML-escaped, as the list encoder does), without the
// newline it ends with.
func writeJSONItems(w io.Writer, items []kruntime.Object) error {
	chunks := (len(items) + jsonListChunk - 1) / jsonListChunk
	if chunks <= 1 {
		buf := jsonChunkBuffers.Get().(*bytes.Buffer)
		defer putChunkBuffer(buf)
		if err := encodeJSONItems(buf, items, true); err != nil {
			return err
		}
		_, err := w.Write(buf.Bytes())
		return err
	}
	workers := min(runtime.GOMAXPROCS(0), 4)
	type result struct {
		buf *bytes.Buffer
		err error
	}
	// At most 2×workers chunks are encoded or waiting to be written.
	slots := make(chan struct{}, 2*workers)
	done := make(chan struct{})
	defer close(done)
	results := make([]chan result, chunks)
	for i := range results {
		results[i] = make(chan result, 1)
	}
	go func() {
		for i := range chunks {
			select {
			case slots <- struct{}{}:
			case <-done:
				return
			}
			go func() {
				buf := jsonChunkBuffers.Get().(*bytes.Buffer)
				part := items[i*jsonListChunk : min((i+1)*jsonListChunk, len(items))]
				err := encodeJSONItems(buf, part, i == 0)
				results[i] <- result{buf, err}
			}()
		}
	}()
	for i := range chunks {
		r := <-results[i]
		err := r.err
		if err == nil {
			_, err = w.Write(r.buf.Bytes())
		}
		putChunkBuffer(r.buf)
		<-slots
		if err != nil {
			// The chunks already started finish into their buffered
			// channels; the rest are not started.
			return err
		}
	}
	return nil
}

// encodeJSONItems appends items to buf, each preceded by a comma but the
// very first of the list.
func encodeJSONItems(buf *bytes.Buffer, items []kruntime.Object, first bool) error {
	enc := json.NewEncoder(buf)
	for i, obj := range items {
		if i > 0 || !first {
			buf.WriteByte(',')
		}
		if err := enc.Encode(obj); err != nil {
			return err
		}
		buf.Truncate(buf.Len() - 1) // the Encoder's newline
	}
	return nil
}

func putChunkBuffer(buf *bytes.Buffer) {
	if buf.Cap() > 1<<20 {
		return // an odd large chunk: let it go
	}
	buf.Reset()
	jsonChunkBuffers.Put(buf)
}
