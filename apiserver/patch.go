package apiserver

import (
	"encoding/json"
	"fmt"
	"mime"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"

	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// servePatch applies a JSON patch, JSON merge patch or strategic merge patch
// to the current object, then takes the update path. The patch is applied
// again to a fresh copy if the object changes in between.
func (s *Server) servePatch(q *request) error {
	patch, err := readBody(q.r)
	if err != nil {
		return err
	}
	pt, err := patchType(q.r.Header.Get("Content-Type"))
	if err != nil {
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
	case types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType:
		return pt, nil
	case types.ApplyYAMLPatchType, types.ApplyCBORPatchType:
		return "", apierrors.NewGenericServerResponse(415, "patch", schema.GroupResource{}, "", "server-side apply is not supported by nodeagent yet; use client-side `kubectl apply`", 0, false)
	}
	return "", unsupportedMediaType(contentType)
}

// applyPatch returns the object that results from patching cur.
func (s *Server) applyPatch(q *request, pt types.PatchType, patch []byte, cur runtime.Object, mode fieldValidation) (runtime.Object, error) {
	original, err := json.Marshal(cur)
	if err != nil {
		return nil, err
	}
	var result []byte
	switch pt {
	case types.JSONPatchType:
		var p jsonpatch.Patch
		if p, err = jsonpatch.DecodePatch(patch); err == nil {
			result, err = p.Apply(original)
		}
	case types.MergePatchType:
		result, err = jsonpatch.MergePatch(original, patch)
	case types.StrategicMergePatchType:
		result, err = strategicpatch.StrategicMergePatch(original, patch, q.res.newObj())
	}
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the patch could not be applied: %v", err))
	}
	return s.codecs.decode(q.w, result, mediaJSON, mode, q.res.gvk, q.res.newObj())
}
