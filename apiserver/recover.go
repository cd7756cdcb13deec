package apiserver

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// recoverPanic, deferred by ServeHTTP, turns a handler panic into a 500 and
// an Error log with the stack (net/http would only close the connection
// and log at the server's ErrorLog level). http.ErrAbortHandler, the
// deliberate way to abort a response, is passed on.
func (s *Server) recoverPanic(w http.ResponseWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
		panic(v)
	}
	s.log.Error("request handler panicked", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	err := apierrors.NewInternalError(errors.New("This request caused apiserver to panic. Look in the logs for details."))
	s.writeError(w, err, schema.GroupResource{}, "")
}
