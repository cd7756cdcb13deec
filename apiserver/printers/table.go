package printers

import (
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Table renders objs with p as a meta.k8s.io/v1 Table, one row per object,
// each row's object attached according to policy (see IncludeObject). The
// caller sets ListMeta. Rows is never nil, so an empty page encodes as
// "rows": [] like kube-apiserver's.
func Table(p Printer, objs []runtime.Object, now time.Time, policy metav1.IncludeObjectPolicy) (*metav1.Table, error) {
	t := &metav1.Table{
		TypeMeta:          metav1.TypeMeta{Kind: "Table", APIVersion: metav1.SchemeGroupVersion.String()},
		ColumnDefinitions: p.Columns(),
		Rows:              make([]metav1.TableRow, 0, len(objs)),
	}
	for _, obj := range objs {
		row, err := tableRow(p, obj, now, policy)
		if err != nil {
			return nil, err
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

func tableRow(p Printer, obj runtime.Object, now time.Time, policy metav1.IncludeObjectPolicy) (metav1.TableRow, error) {
	cells, err := p.Row(obj, now)
	if err != nil {
		return metav1.TableRow{}, err
	}
	row := metav1.TableRow{Cells: cells}
	if c, ok := p.(conditioner); ok {
		row.Conditions = c.Conditions(obj)
	}
	if err := IncludeObject(&row, obj, policy); err != nil {
		return metav1.TableRow{}, err
	}
	return row, nil
}

// IncludeObject sets row.Object as kube-apiserver does for the
// includeObject query parameter: None leaves it empty (encoded as null),
// Metadata (also the default, "") puts a meta.k8s.io/v1
// PartialObjectMetadata of obj, Object puts obj itself, which must carry its
// apiVersion and kind. Any other policy is a BadRequest StatusError.
func IncludeObject(row *metav1.TableRow, obj runtime.Object, policy metav1.IncludeObjectPolicy) error {
	switch policy {
	case metav1.IncludeNone:
		row.Object = runtime.RawExtension{}
	case metav1.IncludeMetadata, "":
		partial, err := partialMetadata(obj)
		if err != nil {
			return err
		}
		row.Object = runtime.RawExtension{Object: partial}
	case metav1.IncludeObject:
		row.Object = runtime.RawExtension{Object: obj}
	default:
		return apierrors.NewBadRequest(fmt.Sprintf("unrecognized includeObject value: %q", policy))
	}
	return nil
}

func partialMetadata(obj runtime.Object) (*metav1.PartialObjectMetadata, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, fmt.Errorf("printers: metadata of %T: %w", obj, err)
	}
	partial := meta.AsPartialObjectMetadata(m)
	partial.TypeMeta = metav1.TypeMeta{Kind: "PartialObjectMetadata", APIVersion: metav1.SchemeGroupVersion.String()}
	return partial, nil
}
