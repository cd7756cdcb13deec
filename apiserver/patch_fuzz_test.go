package apiserver

import (
	"net/http/httptest"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
)

var fuzzPatchTypes = []types.PatchType{types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType}

// FuzzPatch: any patch of the three types, applied to a pod and decoded as
// the server does, is a pod or an API error under 500; never a panic.
func FuzzPatch(f *testing.F) {
	for _, p := range []string{
		`[{"op":"add","path":"/metadata/labels/x","value":"y"}]`,
		`[{"op":"copy","from":"/spec","path":"/metadata/annotations"}]`,
		`{"metadata":{"labels":{"x":null}},"spec":{"containers":[{"name":"c","image":"i"}]}}`,
		`{"spec":{"$setElementOrder/containers":[{"name":"c"}],"containers":[{"name":"c","$patch":"delete"}]}}`,
		`{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}}`,
		`{"spec":{"containers":[{"$retainKeys":["name"],"name":"c"}]}}`,
	} {
		for i := range fuzzPatchTypes {
			f.Add(uint8(i), []byte(p))
		}
	}
	pod := podJSON(f)
	c := newCodecs()
	f.Fuzz(func(t *testing.T, kind uint8, patch []byte) {
		pt := fuzzPatchTypes[int(kind)%len(fuzzPatchTypes)]
		result, err := patchJSON(pt, pod, patch, &corev1.Pod{})
		if err == nil {
			_, err = c.decode(httptest.NewRecorder(), result, mediaJSON, validationStrict, coreV1.WithKind("Pod"), &corev1.Pod{})
		}
		if err == nil {
			return
		}
		se, ok := err.(*apierrors.StatusError)
		if !ok || se.ErrStatus.Code >= 500 || se.ErrStatus.Code < 400 {
			t.Fatalf("%s %q: %#v", pt, patch, err)
		}
	})
}
