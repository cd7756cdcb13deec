package apiserver

import (
	"errors"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// statusError turns any error into the API Status kube-apiserver would send.
func statusError(err error, gr schema.GroupResource, name string) *apierrors.StatusError {
	var se *apierrors.StatusError
	switch {
	case errors.As(err, &se):
		return se
	case storage.IsNotFound(err):
		return apierrors.NewNotFound(gr, name)
	case storage.IsExists(err):
		return apierrors.NewAlreadyExists(gr, name)
	case storage.IsConflict(err):
		return apierrors.NewConflict(gr, name, errors.New("the object has been modified; please apply your changes to the latest version and try again"))
	case storage.IsExpired(err):
		return apierrors.NewResourceExpired(err.Error())
	case storage.IsInvalidToken(err):
		return apierrors.NewBadRequest(err.Error())
	case storage.IsTooLargeRV(err):
		return tooLargeResourceVersion(err.Error())
	case storage.IsTooLarge(err):
		// kube-apiserver answers 500 here; it is the client's object.
		return apierrors.NewRequestEntityTooLargeError(err.Error())
	}
	return apierrors.NewInternalError(err)
}

// writeStatus writes a failure Status.
func (s *Server) writeError(w http.ResponseWriter, err error, gr schema.GroupResource, name string) {
	st := statusError(err, gr, name).ErrStatus
	st.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	if st.Code == 0 {
		st.Code = http.StatusInternalServerError
	}
	if st.Code >= 500 {
		s.log.Warn("request failed", "err", err)
	}
	s.codecs.writeObject(w, int(st.Code), &st, output{})
}

func conflictf(gr schema.GroupResource, name, format string, args ...any) error {
	return apierrors.NewConflict(gr, name, fmt.Errorf(format, args...))
}

// tooLargeResourceVersion is kube-apiserver's answer to a read at a
// resourceVersion beyond the current one: 504 with a ResourceVersionTooLarge
// cause, which client-go's reflector recognises.
func tooLargeResourceVersion(msg string) *apierrors.StatusError {
	se := apierrors.NewTimeoutError(msg, 0)
	se.ErrStatus.Details.Causes = []metav1.StatusCause{{Type: metav1.CauseTypeResourceVersionTooLarge, Message: "Too large resource version"}}
	return se
}
