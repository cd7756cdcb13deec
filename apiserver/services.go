package apiserver

import (
	"context"
	"fmt"
	"math/rand/v2"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/apiserver/allocator"
	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// serviceAllocation is the Services' cluster IP and node port allocation:
// the Assigner decides on admission, the Etcd table is linked to the
// services store so that every service write carries its allocations in
// the same transaction (see the allocator package).
type serviceAllocation struct {
	ips      allocator.IPRange
	assigner *allocator.Assigner
	table    *allocator.Etcd
	res      *resource
}

// setupServiceAllocation parses the ranges, links the table to the
// services store and repairs the table from the stored services.
func (s *Server) setupServiceAllocation(ctx context.Context) error {
	ips, err := allocator.ParseIPRange(s.cfg.ServiceClusterIPRange)
	if err != nil {
		return err
	}
	ports, err := allocator.ParsePortRange(s.cfg.ServiceNodePortRange)
	if err != nil {
		return err
	}
	res, _ := s.reg.lookup("", "v1", "services")
	table := allocator.NewEtcd(s.backend.Client, allocator.DefaultPrefix)
	s.services = &serviceAllocation{ips: ips, table: table, res: res,
		assigner: &allocator.Assigner{IPs: ips, Ports: ports, View: table, Rand: rand.Uint64N}}
	s.store(res).Link(table)
	res.strategy.prepareUpdate = typedU2(allocator.PrepareUpdate)
	res.strategy.assign = s.assignService
	return s.repairServiceAllocations(ctx)
}

// repairServiceAllocations makes the table agree with the stored services.
// With the table written in the same transactions as the services this
// finds nothing, except for data written before the table existed.
func (s *Server) repairServiceAllocations(ctx context.Context) error {
	st := s.store(s.services.res)
	page, err := st.List(ctx, "", storage.ListOptions{})
	if err != nil {
		return fmt.Errorf("list services for allocation repair: %w", err)
	}
	svcs := make([]*corev1.Service, len(page.Items))
	for i, o := range page.Items {
		svcs[i] = o.(*corev1.Service)
	}
	rep, err := s.services.table.Repair(ctx, svcs, st.Key)
	if err != nil {
		return err
	}
	for _, d := range rep.Duplicates {
		s.log.Error("service allocation claimed twice; recreate one of the services", "detail", d)
	}
	if rep.Added > 0 || rep.Removed > 0 {
		s.log.Info("service allocations repaired", "added", rep.Added, "removed", rep.Removed)
	}
	return nil
}

// assignService is the services' assign step.
func (s *Server) assignService(ctx context.Context, obj, old runtime.Object) error {
	svc := obj.(*corev1.Service)
	var was *corev1.Service
	if old != nil {
		was = old.(*corev1.Service)
	}
	errs, err := s.services.assigner.Assign(ctx, svc, was)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(s.services.res.gvk.GroupKind(), svc.Name, errs)
	}
	return nil
}

func typedU2[T runtime.Object](f func(obj, old T)) func(obj, old runtime.Object) {
	return func(obj, old runtime.Object) { f(obj.(T), old.(T)) }
}
