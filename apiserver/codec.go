package apiserver

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes/scheme"
)

// maxBodyBytes bounds request bodies, as kube-apiserver does (3 MiB).
const maxBodyBytes = 3 << 20

const (
	mediaJSON     = "application/json"
	mediaYAML     = "application/yaml"
	mediaProtobuf = "application/vnd.kubernetes.protobuf"
)

// codecs encodes and decodes API objects as JSON, YAML or protobuf (what
// client-go sends by default for built-in types).
type codecs struct {
	scheme  *runtime.Scheme
	factory serializer.CodecFactory
	json    runtime.SerializerInfo
}

// newCodecs serves client-go's types and apiextensions.k8s.io/v1; custom
// resources are decoded as unstructured JSON.
func newCodecs() *codecs {
	s := runtime.NewScheme()
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	utilruntime.Must(scheme.AddToScheme(s))
	utilruntime.Must(apiextensionsv1.AddToScheme(s))
	f := serializer.NewCodecFactory(s)
	c := &codecs{scheme: s, factory: f}
	c.json, _ = c.info(mediaJSON)
	return c
}

func (c *codecs) info(mediaType string) (runtime.SerializerInfo, bool) {
	return runtime.SerializerInfoForMediaType(c.factory.SupportedMediaTypes(), mediaType)
}

// fieldValidation is the request's fieldValidation directive.
type fieldValidation string

const (
	validationIgnore fieldValidation = "Ignore"
	validationWarn   fieldValidation = "Warn"
	validationStrict fieldValidation = "Strict"
)

func parseFieldValidation(r *http.Request) (fieldValidation, error) {
	switch v := fieldValidation(r.URL.Query().Get("fieldValidation")); v {
	case "":
		return validationWarn, nil
	case validationIgnore, validationWarn, validationStrict:
		return v, nil
	default:
		return "", apierrors.NewBadRequest(fmt.Sprintf("fieldValidation must be one of Ignore, Warn or Strict, got %q", v))
	}
}

// readBody reads at most maxBodyBytes; more is 413.
func readBody(r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("reading request body: %v", err))
	}
	if len(data) > maxBodyBytes {
		return nil, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d bytes", maxBodyBytes))
	}
	return data, nil
}

// decodeBody decodes the request body into a new object of the resource's
// type. Unknown or duplicate fields fail the request with Strict, become
// Warning headers with Warn, and are dropped with Ignore.
func (c *codecs) decodeBody(w http.ResponseWriter, r *http.Request, res *resource, data []byte) (runtime.Object, error) {
	mode, err := parseFieldValidation(r)
	if err != nil {
		return nil, err
	}
	mt := mediaJSON
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return nil, unsupportedMediaType(ct)
		}
	}
	return c.decodeResource(w, data, mt, mode, res)
}

func (c *codecs) decode(w http.ResponseWriter, data []byte, mediaType string, mode fieldValidation, want schema.GroupVersionKind, into runtime.Object) (runtime.Object, error) {
	info, ok := c.info(mediaType)
	if !ok {
		return nil, unsupportedMediaType(mediaType)
	}
	dec := info.Serializer
	if mode != validationIgnore && info.StrictSerializer != nil {
		dec = info.StrictSerializer
	}
	obj, gvk, err := dec.Decode(data, &want, into)
	if err != nil && runtime.IsStrictDecodingError(err) && obj != nil {
		if mode == validationStrict {
			return nil, apierrors.NewBadRequest(cannotHandle(want, err))
		}
		for _, e := range strictErrors(err) {
			w.Header().Add("Warning", fmt.Sprintf("299 - %q", e))
		}
		err = nil
	}
	if err != nil {
		return nil, apierrors.NewBadRequest(cannotHandle(want, err))
	}
	if *gvk != want {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the API version in the data (%s) does not match the expected API version (%s)", gvk.GroupVersion(), want.GroupVersion()))
	}
	return obj, nil
}

func strictErrors(err error) []string {
	var out []string
	if se, ok := err.(interface{ Errors() []error }); ok {
		for _, e := range se.Errors() {
			out = append(out, e.Error())
		}
	}
	return out
}

// output is how the client wants an answer.
type output struct {
	info  runtime.SerializerInfo
	table bool // Accept asks for meta.k8s.io/v1 Table
	// partial: Accept asks for metadata alone (partial.go), as this kind.
	partial schema.GroupVersionKind
	pretty  bool
}

// negotiate reads the Accept header: JSON, YAML or protobuf, as a Table when
// the client asks for as=Table;g=meta.k8s.io;v=v1, as metadata alone for
// as=PartialObjectMetadata(List);g=meta.k8s.io;v=v1.
func (c *codecs) negotiate(r *http.Request) (output, error) {
	out := output{info: c.json, pretty: r.URL.Query().Get("pretty") == "true" || strings.HasPrefix(r.UserAgent(), "curl")}
	accept := r.Header.Get("Accept")
	if accept == "" {
		return out, nil
	}
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if mt == "*/*" || mt == "application/*" {
			mt = mediaJSON
		}
		info, ok := c.info(mt)
		if !ok {
			continue
		}
		switch params["as"] {
		case "":
		case "Table":
			if params["g"] != "meta.k8s.io" || (params["v"] != "v1" && params["v"] != "v1beta1") {
				continue
			}
			out.table = true
		default:
			kind, ok := partialAs(params)
			if !ok {
				continue
			}
			out.partial = kind
		}
		out.info = info
		return out, nil
	}
	return out, apierrors.NewGenericServerResponse(http.StatusNotAcceptable, "", schema.GroupResource{}, "",
		"only application/json, application/yaml and application/vnd.kubernetes.protobuf are served", 0, false)
}

// writeObject encodes obj in the negotiated format with the status code.
func (c *codecs) writeObject(w http.ResponseWriter, code int, obj runtime.Object, out output) {
	info := out.info
	if info.Serializer == nil {
		info = c.json
	}
	enc := info.Serializer
	if out.pretty && info.PrettySerializer != nil {
		enc = info.PrettySerializer
	}
	w.Header().Set("Content-Type", info.MediaType)
	w.WriteHeader(code)
	enc.Encode(obj, w)
}

// unsupportedMediaType is the 415 kube-apiserver answers for a body type it
// does not read.
func unsupportedMediaType(contentType string) error {
	return apierrors.NewGenericServerResponse(http.StatusUnsupportedMediaType, "", schema.GroupResource{}, "",
		fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got %q)", contentType), 0, false)
}

// cannotHandle words a decoding failure as kube-apiserver does.
func cannotHandle(gvk schema.GroupVersionKind, err error) string {
	return fmt.Sprintf("%s in version %q cannot be handled as a %s: %v", gvk.Kind, gvk.Version, gvk.Kind, err)
}
