package apiserver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// nodeagent publishes no schemas, but kubectl (1.27+) reads OpenAPI v3 to
// learn whether the server validates fields itself (fieldValidation=Strict);
// if it cannot tell, it validates on the client against schemas it then
// fails to download. So /openapi/v3 lists every group version, and each
// group-version document declares, for each kind, a PATCH operation that
// takes the fieldValidation query parameter, which is what kubectl looks for.

// serveOpenAPI answers /openapi/v2, /openapi/v3 and
// /openapi/v3/<api|apis/group>/<version>.
func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) bool {
	p := strings.TrimSuffix(r.URL.Path, "/")
	if p == "/openapi/v2" {
		// kubectl 1.27 and 1.28 download the v2 document before anything
		// else; an empty protobuf message is a valid, empty document.
		w.Header().Set("Content-Type", "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
		w.WriteHeader(http.StatusOK)
		return true
	}
	if p == "/openapi/v3" {
		s.writeJSON(w, s.openAPIRoot())
		return true
	}
	rest, ok := strings.CutPrefix(p, "/openapi/v3/")
	if !ok {
		return false
	}
	for _, gv := range s.reg.groupVersions() {
		if gvPath(gv) == rest {
			s.writeJSON(w, s.openAPIDoc(gv))
			return true
		}
	}
	return false
}

// gvPath is "api/v1" or "apis/<group>/<version>".
func gvPath(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return "api/" + gv.Version
	}
	return "apis/" + gv.Group + "/" + gv.Version
}

type openAPIRef struct {
	ServerRelativeURL string `json:"serverRelativeURL"`
}

func (s *Server) openAPIRoot() map[string]any {
	paths := map[string]openAPIRef{}
	for _, gv := range s.reg.groupVersions() {
		doc, _ := json.Marshal(s.openAPIDoc(gv))
		sum := sha256.Sum256(doc)
		paths[gvPath(gv)] = openAPIRef{ServerRelativeURL: "/openapi/v3/" + gvPath(gv) + "?hash=" + hex.EncodeToString(sum[:16])}
	}
	return map[string]any{"paths": paths}
}

// openAPIDoc is the group version's document: one path per resource with a
// PATCH operation tagged with its kind and the fieldValidation parameter.
func (s *Server) openAPIDoc(gv schema.GroupVersion) map[string]any {
	paths := map[string]any{}
	for _, r := range s.reg.inGroupVersion(gv) {
		path := "/" + gvPath(gv) + "/"
		if r.namespaced {
			path += "namespaces/{namespace}/"
		}
		path += r.plural + "/{name}"
		paths[path] = map[string]any{"patch": map[string]any{
			"operationId": "patch" + r.gvk.Kind,
			"x-kubernetes-group-version-kind": map[string]string{
				"group": r.gvk.Group, "version": r.gvk.Version, "kind": r.gvk.Kind},
			"parameters": []map[string]any{
				{"name": "fieldValidation", "in": "query", "schema": map[string]string{"type": "string"}},
				{"name": "fieldManager", "in": "query", "schema": map[string]string{"type": "string"}},
				{"name": "dryRun", "in": "query", "schema": map[string]string{"type": "string"}},
			},
			"responses": map[string]any{"200": map[string]string{"description": "OK"}},
		}}
	}
	return map[string]any{
		"openapi": "3.0.0",
		"info":    map[string]string{"title": "nodeagent", "version": s.versionInfo().GitVersion},
		"paths":   paths,
	}
}
