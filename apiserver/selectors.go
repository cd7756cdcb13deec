package apiserver

import (
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// selection is a parsed labelSelector and fieldSelector.
type selection struct {
	labels labels.Selector
	fields fields.Selector
}

// parseSelection reads and checks the selectors of a list or watch.
func parseSelection(r *http.Request, res *resource) (selection, error) {
	q := r.URL.Query()
	ls, err := labels.Parse(q.Get("labelSelector"))
	if err != nil {
		return selection{}, apierrors.NewBadRequest(fmt.Sprintf("unable to parse requirement: %v", err))
	}
	fs, err := fields.ParseSelector(q.Get("fieldSelector"))
	if err != nil {
		return selection{}, apierrors.NewBadRequest(fmt.Sprintf("invalid field selector: %v", err))
	}
	for _, req := range fs.Requirements() {
		if !res.selectableField(req.Field) {
			return selection{}, apierrors.NewBadRequest(fmt.Sprintf("field label not supported: %s", req.Field))
		}
	}
	return selection{labels: ls, fields: fs}, nil
}

func (r *resource) selectableField(f string) bool {
	if f == "metadata.name" || f == "metadata.namespace" {
		return true
	}
	for _, x := range r.fieldLabels {
		if x == f {
			return true
		}
	}
	return false
}

// match returns the storage filter, or nil when everything matches.
func (sel selection) match(res *resource) storage.Match {
	if sel.labels.Empty() && sel.fields.Empty() {
		return nil
	}
	return func(obj runtime.Object) bool {
		m, err := meta.Accessor(obj)
		if err != nil {
			return false
		}
		if !sel.labels.Matches(labels.Set(m.GetLabels())) {
			return false
		}
		if sel.fields.Empty() {
			return true
		}
		set := fields.Set{"metadata.name": m.GetName(), "metadata.namespace": m.GetNamespace()}
		if res.fieldSet != nil {
			for k, v := range res.fieldSet(obj) {
				set[k] = v
			}
		}
		return sel.fields.Matches(set)
	}
}

// fieldSelectorName returns the name a fieldSelector pins with
// metadata.name=..., or "".
func fieldSelectorName(r *http.Request) string {
	fs, err := fields.ParseSelector(r.URL.Query().Get("fieldSelector"))
	if err != nil {
		return ""
	}
	name, _ := fs.RequiresExactMatch("metadata.name")
	return name
}

// fieldRequirements returns the requirements of the request's field
// selector (none when it does not parse: the list itself refuses it).
func fieldRequirements(r *http.Request) fields.Requirements {
	fs, err := fields.ParseSelector(r.URL.Query().Get("fieldSelector"))
	if err != nil {
		return nil
	}
	return fs.Requirements()
}

// nameAndNode returns an object's name and, for a pod, its spec.nodeName.
func nameAndNode(obj runtime.Object) (string, string) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return "", ""
	}
	if p, ok := obj.(*corev1.Pod); ok {
		return m.GetName(), p.Spec.NodeName
	}
	return m.GetName(), ""
}
