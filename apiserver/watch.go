package apiserver

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// maxWatchTimeout ends watches that did not ask for a timeout, so that
// clients re-establish them now and then (kube-apiserver: 30-60 min).
const maxWatchTimeout = 30 * time.Minute

// watchOptions reads the watch parameters of a request.
func watchOptions(q *request) (storage.WatchOptions, time.Duration, error) {
	v := q.r.URL.Query()
	sel, err := parseSelection(q.r, q.res)
	if err != nil {
		return storage.WatchOptions{}, 0, err
	}
	rv, err := storage.ParseRV(v.Get("resourceVersion"))
	if err != nil {
		return storage.WatchOptions{}, 0, apierrors.NewBadRequest(err.Error())
	}
	opts := storage.WatchOptions{
		Revision:          rv,
		SendInitialEvents: v.Get("sendInitialEvents") == "true",
		Bookmarks:         v.Get("allowWatchBookmarks") == "true",
		Match:             sel.match(q.res),
		Hints:             sel.hints(),
		Shared:            true, // writeEvent encodes the objects as they are
	}
	if q.info.name != "" {
		opts.Name = q.info.name
	}
	timeout := maxWatchTimeout + time.Duration(rand.Int64N(int64(maxWatchTimeout)))
	if t := v.Get("timeoutSeconds"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			return opts, 0, apierrors.NewBadRequest("invalid timeoutSeconds " + t)
		}
		timeout = time.Duration(n) * time.Second
	}
	return opts, timeout, nil
}

// serveWatch streams watch events as JSON, one per line, each flushed.
func (s *Server) serveWatch(q *request) error {
	opts, timeout, err := watchOptions(q)
	if err != nil {
		return err
	}
	if err := partialWatch(q.out.partial, q.res.newObj()); err != nil {
		return err
	}
	w, err := s.store(q.res).Watch(q.ctx, q.info.namespace, opts, s.watchLimits)
	if err != nil {
		return err
	}
	defer w.Stop()
	flusher, _ := q.w.(http.Flusher)
	if q.out.info.StreamSerializer == nil {
		return apierrors.NewBadRequest("no streaming encoding for " + q.out.info.MediaType)
	}
	q.w.Header().Set("Content-Type", q.out.info.MediaType+streamSuffix(q.out.info))
	q.w.Header().Set("Transfer-Encoding", "chunked")
	q.w.WriteHeader(http.StatusOK)
	if flusher != nil {
		flusher.Flush()
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	first := true
	for {
		select {
		case <-q.ctx.Done():
			return nil
		case <-timer.C:
			return nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				return nil
			}
			if err := s.writeEvent(q, ev, first); err != nil {
				return nil
			}
			first = false
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
}

// writeEvent encodes one event and writes it, framed for the stream; with
// Table output, each object becomes a one-row Table (column definitions
// only in the first event, as kube-apiserver sends them).
func (s *Server) writeEvent(q *request, ev watch.Event, first bool) error {
	obj := ev.Object
	ensureKind(obj, q.res)
	encode := encodeEvent
	if ev.Type == watch.Error {
		if st, ok := obj.(*metav1.Status); ok && st.Kind == "" {
			st.Kind, st.APIVersion = "Status", "v1"
		}
	} else if q.out.table && ev.Type != watch.Bookmark {
		t, err := s.table(q, []runtime.Object{obj}, "")
		if err != nil {
			return err
		}
		if !first {
			t.ColumnDefinitions = nil
		}
		obj = t
	} else if q.out.table {
		obj = bookmarkTable(obj)
	} else if !q.out.partial.Empty() {
		p, err := partialObject(obj, q.out.partial)
		if err != nil {
			return err
		}
		obj = p
	} else if ev.Type != watch.Bookmark {
		// The object as the watch cache holds it, sent to every watch of
		// it: the whole event is encoded and framed once for them all.
		encode = s.encodings.event
	}
	frame, err := encode(q.out.info, ev.Type, obj)
	if err != nil {
		return err
	}
	_, err = q.w.Write(frame)
	return err
}

// bookmarkTable carries a bookmark's resourceVersion in an empty Table.
func bookmarkTable(obj runtime.Object) runtime.Object {
	t := &metav1.Table{TypeMeta: metav1.TypeMeta{Kind: "Table", APIVersion: "meta.k8s.io/v1"}}
	if m, ok := obj.(metav1.Object); ok {
		t.ResourceVersion = m.GetResourceVersion()
	}
	return t
}

// streamSuffix marks a protobuf watch stream as kube-apiserver does.
func streamSuffix(info runtime.SerializerInfo) string {
	if info.MediaType == mediaProtobuf {
		return ";stream=watch"
	}
	return ""
}
