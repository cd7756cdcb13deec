package namespace

import (
	"context"
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// collection is one namespaced resource: delete everything, count what is left.
type collection struct {
	name   string
	delete func(ctx context.Context, ns string) error
	count  func(ctx context.Context, ns string) (int, error)
}

func (c *Controller) collections() []collection {
	core, disc, coord := c.client.CoreV1(), c.client.DiscoveryV1(), c.client.CoordinationV1()
	all, opts := metav1.DeleteOptions{}, metav1.ListOptions{}
	return []collection{
		{"pods", func(ctx context.Context, ns string) error { return core.Pods(ns).DeleteCollection(ctx, all, opts) },
			func(ctx context.Context, ns string) (int, error) {
				l, err := core.Pods(ns).List(ctx, opts)
				return lenOf(len(l.Items), err)
			}},
		{"services", func(ctx context.Context, ns string) error { return c.deleteServices(ctx, ns) },
			func(ctx context.Context, ns string) (int, error) {
				l, err := core.Services(ns).List(ctx, opts)
				return lenOf(len(l.Items), err)
			}},
		{"configmaps", func(ctx context.Context, ns string) error {
			return core.ConfigMaps(ns).DeleteCollection(ctx, all, opts)
		},
			func(ctx context.Context, ns string) (int, error) {
				l, err := core.ConfigMaps(ns).List(ctx, opts)
				return lenOf(len(l.Items), err)
			}},
		{"secrets", func(ctx context.Context, ns string) error { return core.Secrets(ns).DeleteCollection(ctx, all, opts) },
			func(ctx context.Context, ns string) (int, error) {
				l, err := core.Secrets(ns).List(ctx, opts)
				return lenOf(len(l.Items), err)
			}},
		{"events", func(ctx context.Context, ns string) error { return core.Events(ns).DeleteCollection(ctx, all, opts) },
			func(ctx context.Context, ns string) (int, error) {
				l, err := core.Events(ns).List(ctx, opts)
				return lenOf(len(l.Items), err)
			}},
		{"serviceaccounts", func(ctx context.Context, ns string) error {
			return core.ServiceAccounts(ns).DeleteCollection(ctx, all, opts)
		},
			func(ctx context.Context, ns string) (int, error) {
				l, err := core.ServiceAccounts(ns).List(ctx, opts)
				return lenOf(len(l.Items), err)
			}},
		{"persistentvolumeclaims", func(ctx context.Context, ns string) error {
			return core.PersistentVolumeClaims(ns).DeleteCollection(ctx, all, opts)
		},
			func(ctx context.Context, ns string) (int, error) {
				l, err := core.PersistentVolumeClaims(ns).List(ctx, opts)
				return lenOf(len(l.Items), err)
			}},
		{"endpoints", func(ctx context.Context, ns string) error { return core.Endpoints(ns).DeleteCollection(ctx, all, opts) },
			func(ctx context.Context, ns string) (int, error) {
				l, err := core.Endpoints(ns).List(ctx, opts)
				return lenOf(len(l.Items), err)
			}},
		{"endpointslices", func(ctx context.Context, ns string) error {
			return disc.EndpointSlices(ns).DeleteCollection(ctx, all, opts)
		},
			func(ctx context.Context, ns string) (int, error) {
				l, err := disc.EndpointSlices(ns).List(ctx, opts)
				return lenOf(len(l.Items), err)
			}},
		{"leases", func(ctx context.Context, ns string) error { return coord.Leases(ns).DeleteCollection(ctx, all, opts) },
			func(ctx context.Context, ns string) (int, error) {
				l, err := coord.Leases(ns).List(ctx, opts)
				return lenOf(len(l.Items), err)
			}},
	}
}

func lenOf(n int, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	return n, nil
}

// deleteContent deletes every collection in ns and returns how many objects
// are still there (pods on nodes stay until their node lets them go).
func (c *Controller) deleteContent(ctx context.Context, ns string) (int, error) {
	left := 0
	var errs []error
	for _, col := range c.collections() {
		if err := col.delete(ctx, ns); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
			continue
		}
		n, err := col.count(ctx, ns)
		errs = append(errs, err)
		left += n
	}
	return left, errors.Join(errs...)
}

// deleteServices deletes services one by one: the services API has no
// deletecollection.
func (c *Controller) deleteServices(ctx context.Context, ns string) error {
	l, err := c.client.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range l.Items {
		if err := c.client.CoreV1().Services(ns).Delete(ctx, s.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
