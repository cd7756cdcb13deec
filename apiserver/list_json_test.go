package apiserver

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// listPod is a pod with what makes JSON encoding differ: HTML characters,
// quantities, times, maps and nested slices.
func listPod(i int) *corev1.Pod {
	p := testPod(fmt.Sprint("p-", i))
	p.Kind, p.APIVersion = "Pod", "v1"
	p.Namespace = "default"
	p.Annotations = map[string]string{"note": "<b>&amp;</b>", "z": "1", "a": "2"}
	p.CreationTimestamp = metav1.Unix(1700000000+int64(i), 0)
	p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: apiresource.MustParse("100m")}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	return p
}

// The streamed JSON list is byte for byte what encoding the typed list
// gives, at every size around a chunk's edges.
func TestJSONListIsTheTypedListEncoding(t *testing.T) {
	s := &Server{codecs: newCodecs()}
	res, ok := newRegistry(resources()).lookup("", "v1", "pods")
	if !ok {
		t.Fatal("no pods resource")
	}
	for _, n := range []int{0, 1, jsonListChunk - 1, jsonListChunk, jsonListChunk + 1, 5*jsonListChunk + 3, 1000} {
		items := make([]runtime.Object, n)
		for i := range items {
			items[i] = listPod(i)
		}
		for _, cont := range []string{"", "eyJydiI6NSwic3RhcnQiOiIvcG9kcy9kZWZhdWx0L3AtMSJ9"} {
			page := storage.ListResult{Items: items, Revision: 42, Continue: cont}
			list, err := s.newList(res, page)
			if err != nil {
				t.Fatal(err)
			}
			want := httptest.NewRecorder()
			s.codecs.writeObject(want, http.StatusOK, list, output{info: s.codecs.json})
			got := httptest.NewRecorder()
			writeJSONList(got, res, page)
			if got.Code != http.StatusOK || got.Header().Get("Content-Type") != mediaJSON {
				t.Fatalf("%d items: status %d, type %q", n, got.Code, got.Header().Get("Content-Type"))
			}
			if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
				t.Fatalf("%d items, continue %q: the streamed list differs from the typed list's encoding\n got: %.300s\nwant: %.300s",
					n, cont, got.Body.String(), want.Body.String())
			}
		}
	}
}

// failingWriter fails its second write.
type failingWriter struct{ writes int }

func (f *failingWriter) Write(p []byte) (int, error) {
	f.writes++
	if f.writes > 1 {
		return 0, errors.New("client gone")
	}
	return len(p), nil
}

// A client that goes away mid-list stops the encoding: the error comes
// back and no worker is left behind (go test -race, goleak-free by the
// buffered results).
func TestJSONListStopsWhenTheClientIsGone(t *testing.T) {
	items := make([]runtime.Object, 40*jsonListChunk)
	for i := range items {
		items[i] = listPod(i)
	}
	w := &failingWriter{}
	if err := writeJSONItems(w, items); err == nil {
		t.Fatal("a failed write: no error")
	}
	if w.writes != 2 {
		t.Fatalf("%d writes after the failure, want it to stop at 2", w.writes)
	}
}
