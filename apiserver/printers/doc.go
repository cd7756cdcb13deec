// Package printers renders API objects as the server-side Table
// (meta.k8s.io/v1) that kube-apiserver returns when a client asks with
//
//	Accept: application/json;as=Table;v=v1;g=meta.k8s.io
//
// which is what kubectl get does for human-readable output. The columns,
// their types and the text of every cell follow kube-apiserver's built-in
// printers, so kubectl prints the same thing against nodeagent as against a
// real cluster.
//
// # Shape
//
// A Printer knows its column definitions and how to turn one object into
// the cells of one row. For picks the printer for a plural resource name;
// resources without one get Default, kube-apiserver's default table
// convertor (NAME and CREATED AT). Table runs a printer over a page of
// objects and attaches each row's object according to the includeObject
// policy (IncludeObject).
//
// Like kube-apiserver, the server always emits every column, wide ones
// included: columns that `kubectl get -o wide` adds carry Priority 1 and
// kubectl hides them otherwise. Ages are computed against an injected now,
// with the same rounding as kubectl (k8s.io/apimachinery/pkg/util/duration).
//
// # What the caller does
//
// The caller sets the Table's ListMeta (resourceVersion, continue), drops
// the column definitions after the first event of a watch, and maps errors
// to a Status: an unknown includeObject value is returned as a BadRequest
// apierrors.StatusError.
package printers
