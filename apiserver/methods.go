package apiserver

import (
	"net/http"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// scopeServed says whether a URL's scope fits the resource, as
// kube-apiserver's routes: a cluster-scoped resource has no namespace in its
// URL, and a namespaced one is named only inside a namespace.
func scopeServed(info requestInfo, namespaced bool) bool {
	if namespaced {
		return info.namespace != "" || info.name == ""
	}
	return info.namespace == ""
}

// methodAllowed says whether the request's verb exists at its URL, as
// kube-apiserver's routes do: create only on a collection (POST to a named
// URL is not a create of the body's name), update and patch only on a named
// object, on a subresource only the verbs it serves, and across the
// namespaces of a namespaced resource only list and watch.
func methodAllowed(info requestInfo, namespaced bool) bool {
	if namespaced && info.namespace == "" && info.verb != "list" && info.verb != "watch" {
		return false
	}
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
