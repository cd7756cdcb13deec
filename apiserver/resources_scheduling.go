package apiserver

import (
	"context"

	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/api/defaults"
	"github.com/nodeagent/nodeagent/api/priority"
	"github.com/nodeagent/nodeagent/api/validation"
	"github.com/nodeagent/nodeagent/apiserver/storage"
)

var schedulingV1 = schedulingv1.SchemeGroupVersion

// schedulingResources are the scheduling.k8s.io/v1 resources: the
// PriorityClasses that pods' priorities come from.
func schedulingResources() []*resource {
	return []*resource{
		{gvk: schedulingV1.WithKind("PriorityClass"), plural: "priorityclasses", singular: "priorityclass", shortNames: []string{"pc"},
			newObj: func() runtime.Object { return &schedulingv1.PriorityClass{} }, newList: func() runtime.Object { return &schedulingv1.PriorityClassList{} },
			strategy: strategy{defaults: typed(defaults.PriorityClass), validate: typedV(validation.PriorityClass),
				validateUpdate: typedU(validation.PriorityClassUpdate)}},
	}
}

// ensureSystemPriorityClasses creates system-node-critical and
// system-cluster-critical when missing, as kube-apiserver does at start.
func (s *Server) ensureSystemPriorityClasses(ctx context.Context) error {
	for _, pc := range priority.SystemClasses() {
		if err := s.ensureObject(ctx, pc); err != nil {
			return err
		}
	}
	return nil
}

// priorityClassLister reads PriorityClasses from storage for admission.
type priorityClassLister struct{ s *Server }

func (l priorityClassLister) resource() *resource {
	res, _ := l.s.reg.lookup(schedulingV1.Group, schedulingV1.Version, "priorityclasses")
	return res
}

func (l priorityClassLister) PriorityClass(ctx context.Context, name string) (*schedulingv1.PriorityClass, error) {
	res := l.resource()
	obj, err := l.s.store(res).Get(ctx, "", name)
	if err != nil {
		return nil, statusError(err, res.groupResource(), name)
	}
	return obj.(*schedulingv1.PriorityClass), nil
}

func (l priorityClassLister) PriorityClasses(ctx context.Context) ([]*schedulingv1.PriorityClass, error) {
	page, err := l.s.store(l.resource()).List(ctx, "", storage.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]*schedulingv1.PriorityClass, len(page.Items))
	for i, obj := range page.Items {
		out[i] = obj.(*schedulingv1.PriorityClass)
	}
	return out, nil
}
