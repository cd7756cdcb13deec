package apiserver

import (
	"net/http"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// methodAllowed says whether the request's verb exists at its URL, as
// kube-apiserver's routes do: create only on a collection (POST to a named
// URL is not a create of the body's name), update and patch only on a named
// object, and on a subresource only the verbs it serves.
func methodAllowed(info requestInfo) bool {
	if info.subresource != "" {
		return info.name != "" && slices.Contains(subresourceVerbs[info.subresource], info.verb)
	}
	switch info.verb {
	case "create":
		return info.name == ""
	case "update", "patch":
		return info.name != ""
	case "get", "list", "watch", "delete", "deletecollection":
		return true
	}
	return false
}

// methodNotAllowed is kube-apiserver's 405 for a verb a URL does not serve.
func methodNotAllowed() error {
	return apierrors.NewGenericServerResponse(http.StatusMethodNotAllowed, "", schema.GroupResource{}, "", "", 0, false)
}

// notFoundPath is kube-apiserver's 404 for a group, version, resource,
// subresource or path it does not serve: the message client-go and kubectl
// print ("the server could not find the requested resource"), no details.
func notFoundPath() error {
	return apierrors.NewGenericServerResponse(http.StatusNotFound, "", schema.GroupResource{}, "", "", 0, false)
}
