package revision

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"

	"github.com/nodeagent/nodeagent/controllers/internal/claim"
)

// Owned returns the ControllerRevisions of owner's namespace that owner (a
// DaemonSet or StatefulSet, of apps/v1 kind) controls, after adopting the
// orphans sel matches (those of an owner deleted with --cascade=orphan)
// and releasing those it no longer matches, as kube's ControllerRevision
// claim. get reads the owner from the API server before an adoption.
func Owned(ctx context.Context, client kubernetes.Interface, lister appslisters.ControllerRevisionLister,
	owner metav1.Object, kind string, sel labels.Selector, get func(context.Context) (metav1.Object, error)) ([]*appsv1.ControllerRevision, error) {
	ns := owner.GetNamespace()
	list, err := lister.ControllerRevisions(ns).List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("list revisions of %s %s/%s: %w", kind, ns, owner.GetName(), err)
	}
	owned, err := claim.Objects(ctx, claim.Patching(owner, kind, sel, get, claim.RevisionPatcher(client, ns)), list)
	if err != nil {
		return nil, fmt.Errorf("claim revisions of %s %s/%s: %w", kind, ns, owner.GetName(), err)
	}
	return owned, nil
}
