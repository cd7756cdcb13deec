package apiserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"

	jsonpatch "github.com/evanphx/json-patch/v5"
	mergepatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	kmergepatch "k8s.io/apimachinery/pkg/util/mergepatch"
	"k8s.io/apimachinery/pkg/util/strategicpatch"

	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// What one patch may cost. The patch is at most maxBodyBytes (3 MiB) and the
// object it applies to at most what etcd stores (1.5 MiB). Beyond kube's
// limits (10,000 operations and 3 MiB of copies for a JSON patch), the CPU
// that the patch libraries spend is bounded too, because both have
// quadratic cases that a 3 MiB patch turns into minutes (measured: 2 min
// for 10,000 inserts into a 1M-element array; over 10 min for a strategic
// merge of two 100k-element lists):
//   - JSON patch: each operation may walk or copy a container as large as
//     the document, which is at most the original + the values of the add
//     and replace operations + the copies; operations x that size stays
//     under maxJSONPatchWork (about 1 s of CPU here: 10,000 operations on
//     6.7 KB, 100 on 670 KB), so the copy limit shrinks as the operation
//     count grows;
//   - strategic merge: merging lists costs up to the square of the list
//     elements involved; the elements of the patch's lists and of the
//     original's lists at the paths the patch names stay under
//     maxStrategicListElements (about 0.3 s here);
//   - merge patch: linear (lists are replaced, nothing is duplicated);
//   - every result is at most maxPatchResultBytes, as a body would be, and
//     nesting is bounded by the JSON decoder (10,000 levels).
const (
	maxJSONPatchOps          = 10000
	maxJSONPatchCopyBytes    = maxBodyBytes
	maxJSONPatchWork         = 1 << 26
	maxStrategicListElements = 2000
	maxPatchResultBytes      = maxBodyBytes
)

// servePatch applies a JSON patch, JSON merge patch or strategic merge patch
// to the current object, then takes the update path. The patch is applied
// again to a fresh copy if the object changes in between.
func (s *Server) servePatch(q *request) error {
	if q.info.subresource == "scale" {
		return s.serveScalePatch(q)
	}
	patch, err := readBody(q.r)
	if err != nil {
		return err
	}
	pt, err := patchType(q.r.Header.Get("Content-Type"))
	if err != nil {
		return err
	}
	if pt == types.ApplyYAMLPatchType {
		return s.serveApply(q, patch)
	}
	if _, err := patchOptions(q.r, pt); err != nil {
		return err
	}
	mode, err := parseFieldValidation(q.r)
	if err != nil {
		return err
	}
	return s.update(q, func(cur runtime.Object) (runtime.Object, error) {
		curRV, _ := storage.RV(cur)
		patched, err := s.applyPatch(q, pt, patch, cur, mode)
		if err != nil {
			return nil, err
		}
		if rv, _ := storage.RV(patched); rv != 0 && rv != curRV {
			return nil, checkRV(q, cur, rv)
		}
		return patched, nil
	})
}

func patchType(contentType string) (types.PatchType, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", unsupportedMediaType(contentType)
	}
	switch pt := types.PatchType(mt); pt {
	case types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType, types.ApplyYAMLPatchType:
		return pt, nil
	case types.ApplyCBORPatchType:
		return "", apierrors.NewGenericServerResponse(415, "patch", schema.GroupResource{}, "", "server-side apply in CBOR is not supported by nodeagent; send application/apply-patch+yaml", 0, false)
	}
	return "", unsupportedMediaType(contentType)
}

// applyPatch returns the object that results from patching cur.
func (s *Server) applyPatch(q *request, pt types.PatchType, patch []byte, cur runtime.Object, mode fieldValidation) (runtime.Object, error) {
	if pt == types.StrategicMergePatchType && q.res.custom != nil {
		return nil, customStrategicMerge()
	}
	original, err := json.Marshal(cur)
	if err != nil {
		return nil, err
	}
	result, err := patchJSON(pt, original, patch, q.res.newObj())
	if err != nil {
		return nil, err
	}
	return s.codecs.decodeResource(q.w, result, mediaJSON, mode, q.res)
}

// patchJSON applies a patch of type pt to the JSON document original;
// schema is an object of the document's type (for strategic merge). Errors
// are API statuses with kube-apiserver's codes: 400 for a patch that does not
// parse, 413 for one over the limits, 422 for one that does not apply.
func patchJSON(pt types.PatchType, original, patch []byte, schema runtime.Object) ([]byte, error) {
	var result []byte
	var err error
	switch pt {
	case types.JSONPatchType:
		result, err = applyJSONPatch(original, patch)
	case types.MergePatchType:
		result, err = applyMergePatch(original, patch)
	case types.StrategicMergePatchType:
		result, err = applyStrategicMergePatch(original, patch, schema)
	default:
		return nil, unsupportedMediaType(string(pt))
	}
	if err != nil {
		return nil, err
	}
	if len(result) > maxPatchResultBytes {
		return nil, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("the patched object is %d bytes, limit is %d", len(result), maxPatchResultBytes))
	}
	return result, nil
}

// applyJSONPatch applies an RFC 6902 patch with kube-apiserver's limits and
// the work bound, passed per call (not through json-patch's package
// variables).
func applyJSONPatch(original, patch []byte) ([]byte, error) {
	p, err := jsonpatch.DecodePatch(patch)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	if len(p) > maxJSONPatchOps {
		return nil, apierrors.NewRequestEntityTooLargeError(
			fmt.Sprintf("The allowed maximum operations in a JSON patch is %d, got %d", maxJSONPatchOps, len(p)))
	}
	copyLimit, err := jsonPatchCopyLimit(len(p), len(original)+addedBytes(p))
	if err != nil {
		return nil, err
	}
	opts := jsonpatch.NewApplyOptions()
	opts.AccumulatedCopySizeLimit = copyLimit
	result, err := p.ApplyWithOptions(original, opts)
	if err != nil {
		return nil, unprocessable(err)
	}
	return result, nil
}

// addedBytes is how much the add and replace operations of p may add to the
// document: the size of their values.
func addedBytes(p jsonpatch.Patch) int {
	n := 0
	for _, op := range p {
		if k := op.Kind(); (k == "add" || k == "replace") && op["value"] != nil {
			n += len(*op["value"])
		}
	}
	return n
}

// jsonPatchCopyLimit is how many bytes the copy operations of a patch with
// ops operations may add to a document that may reach size bytes without
// them, within maxJSONPatchWork; 413 when even no copies would fit.
func jsonPatchCopyLimit(ops, size int) (int64, error) {
	if ops == 0 {
		return maxJSONPatchCopyBytes, nil
	}
	room := maxJSONPatchWork/int64(ops) - int64(size)
	if room <= 0 {
		return 0, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf(
			"a JSON patch of %d operations on a document of up to %d bytes (object and added values) is too much work: operations x bytes is limited to %d", ops, size, maxJSONPatchWork))
	}
	return min(room, maxJSONPatchCopyBytes), nil
}

// applyMergePatch applies an RFC 7386 merge patch.
func applyMergePatch(original, patch []byte) ([]byte, error) {
	result, err := mergepatch.MergePatch(original, patch)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	return result, nil
}

// applyStrategicMergePatch applies a strategic merge patch; its errors get
// the codes kube-apiserver gives them (anything else is the patch's fault
// too: 400, not kube's 500).
func applyStrategicMergePatch(original, patch []byte, schema runtime.Object) ([]byte, error) {
	if err := checkStrategicWork(original, patch); err != nil {
		return nil, err
	}
	result, err := strategicpatch.StrategicMergePatch(original, patch, schema)
	switch {
	case err == nil:
		return result, nil
	case errors.Is(err, kmergepatch.ErrNoListOfLists), errors.Is(err, kmergepatch.ErrPatchContentNotMatchRetainKeys):
		return nil, unprocessable(err)
	default:
		return nil, apierrors.NewBadRequest(err.Error())
	}
}

func unprocessable(err error) error {
	return apierrors.NewGenericServerResponse(http.StatusUnprocessableEntity, "", schema.GroupResource{}, "", err.Error(), 0, false)
}
