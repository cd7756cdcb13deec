package namespace

import (
	"context"
	"errors"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
)

// contentResources are the resources that hold a namespace's content:
// every namespaced resource the server serves (its preferred version)
// that can be listed and deleted, as kube's namespace controller finds
// them through discovery; workloads, RBAC roles and bindings and custom
// resources go with their namespace like pods do. A discovery that failed
// for some groups returns what it found and the error: the namespace is
// then not finalized, its content in those groups unknown.
func (c *Controller) contentResources() ([]schema.GroupVersionResource, error) {
	lists, err := discovery.ServerPreferredNamespacedResources(c.client.Discovery())
	var out []schema.GroupVersionResource
	for _, l := range lists {
		gv, perr := schema.ParseGroupVersion(l.GroupVersion)
		if perr != nil {
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || !slices.Contains(r.Verbs, "list") || !slices.Contains(r.Verbs, "delete") {
				continue
			}
			out = append(out, gv.WithResource(r.Name))
		}
	}
	return out, err
}

// deleteContent deletes everything in ns and returns how many objects are
// still there (pods on nodes stay until their node lets them go, objects
// with finalizers until those are removed).
func (c *Controller) deleteContent(ctx context.Context, ns string) (int, error) {
	resources, err := c.contentResources()
	errs := []error{err}
	left := 0
	for _, r := range resources {
		n, err := c.deleteAll(ctx, r, ns)
		left += n
		errs = append(errs, err)
	}
	return left, errors.Join(errs...)
}

// deleteAll deletes the objects of one resource in ns (by deletecollection,
// or one by one where the resource has none, as services) and counts what
// is left.
func (c *Controller) deleteAll(ctx context.Context, r schema.GroupVersionResource, ns string) (int, error) {
	res := c.dynamic.Resource(r).Namespace(ns)
	err := res.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	if apierrors.IsMethodNotSupported(err) || apierrors.IsNotFound(err) {
		err = nil
		l, lerr := res.List(ctx, metav1.ListOptions{})
		if lerr != nil {
			return 0, ignoreGone(lerr)
		}
		for _, o := range l.Items {
			if o.GetDeletionTimestamp() != nil {
				continue
			}
			if derr := res.Delete(ctx, o.GetName(), metav1.DeleteOptions{}); derr != nil && !apierrors.IsNotFound(derr) {
				err = errors.Join(err, derr)
			}
		}
	}
	if err != nil {
		return 0, err
	}
	l, err := res.List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, ignoreGone(err)
	}
	return len(l.Items), nil
}

// ignoreGone drops the error of a resource that is no longer served (a
// custom resource whose definition was deleted meanwhile).
func ignoreGone(err error) error {
	if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
		return nil
	}
	return err
}
