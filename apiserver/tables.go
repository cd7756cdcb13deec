package apiserver

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/apiserver/printers"
)

// table renders objects as the meta.k8s.io/v1 Table kubectl prints.
func (s *Server) table(q *request, objs []runtime.Object, cont string) (*metav1.Table, error) {
	if q.res.custom != nil && q.info.subresource == "" {
		return s.customTable(q, objs, cont)
	}
	p, _ := printers.For(q.res.plural)
	if q.info.subresource == "scale" {
		p = printers.Default()
	}
	policy := metav1.IncludeObjectPolicy(q.r.URL.Query().Get("includeObject"))
	if policy == "" {
		policy = metav1.IncludeMetadata
	}
	for _, o := range objs {
		ensureKind(o, q.res)
	}
	t, err := printers.Table(p, objs, s.now(), policy)
	if err != nil {
		return nil, err
	}
	t.TypeMeta = metav1.TypeMeta{Kind: "Table", APIVersion: "meta.k8s.io/v1"}
	t.Continue = cont
	return t, nil
}
