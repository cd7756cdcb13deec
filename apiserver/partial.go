package apiserver

import (
	"fmt"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// The meta.k8s.io/v1 kinds a client asks for with
// Accept: ...;as=KIND;g=meta.k8s.io;v=v1 to get objects' metadata alone
// (client-go's metadata client and the metadata informers built on it):
// an object as PartialObjectMetadata, a list as PartialObjectMetadataList,
// each object of a watch as PartialObjectMetadata.
const (
	asPartial     = "PartialObjectMetadata"
	asPartialList = "PartialObjectMetadataList"
)

// partialAs is the kind an Accept media type's parameters ask for, when
// they ask for one of the two (meta.k8s.io/v1 only: v1beta1 is left to
// the client's next choice).
func partialAs(params map[string]string) (schema.GroupVersionKind, bool) {
	if (params["as"] != asPartial && params["as"] != asPartialList) || params["g"] != metav1.GroupName || params["v"] != "v1" {
		return schema.GroupVersionKind{}, false
	}
	return metav1.SchemeGroupVersion.WithKind(params["as"]), true
}

// notAcceptable is kube-apiserver's 406 when the kind asked for does not
// fit the answer.
func notAcceptable(msg string) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusNotAcceptable,
		Reason: metav1.StatusReason("NotAcceptable"), Message: msg}}
}

// partialObject is obj's metadata as a PartialObjectMetadata, for a client
// that asked for kind (a list kind is refused: obj is one object).
func partialObject(obj runtime.Object, kind schema.GroupVersionKind) (runtime.Object, error) {
	if kind.Kind != asPartial {
		return nil, notAcceptable(fmt.Sprintf("you requested %s, but the requested object is not a list (%T)", kind.Kind, obj))
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	p := meta.AsPartialObjectMetadata(m)
	p.SetGroupVersionKind(kind)
	return p, nil
}

// partialList is a list page's metadata as a PartialObjectMetadataList,
// for a client that asked for kind; list is the resource's list type, for
// the refusal's message.
func partialList(page storage.ListResult, kind schema.GroupVersionKind, list runtime.Object) (runtime.Object, error) {
	if kind.Kind != asPartialList {
		return nil, notAcceptable(fmt.Sprintf("you requested %s, but the requested object is a list (%T)", kind.Kind, list))
	}
	out := &metav1.PartialObjectMetadataList{Items: make([]metav1.PartialObjectMetadata, 0, len(page.Items))}
	out.SetGroupVersionKind(kind)
	out.ResourceVersion = strconv.FormatInt(page.Revision, 10)
	out.Continue = page.Continue
	itemKind := kind.GroupVersion().WithKind(asPartial)
	for _, item := range page.Items {
		p, err := partialObject(item, itemKind)
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, *p.(*metav1.PartialObjectMetadata))
	}
	return out, nil
}

// partialWatch refuses a watch that asks for a list kind: its events carry
// one object (obj, of the resource's type, names it in the message).
func partialWatch(kind schema.GroupVersionKind, obj runtime.Object) error {
	if kind.Empty() || kind.Kind == asPartial {
		return nil
	}
	return notAcceptable(fmt.Sprintf("you requested %s, but the requested object is not a list (%T)", kind.Kind, obj))
}
