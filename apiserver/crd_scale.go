package apiserver

import (
	"fmt"
	"strings"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// customScale is a custom resource's scale subresource: the replicas at
// specReplicasPath and statusReplicasPath and the selector string at
// labelSelectorPath (simple JSON paths such as .spec.replicas, which the
// definition's validation ensures).
type customScale struct {
	spec, status, selector []string
}

func newCustomScale(s *apiextensionsv1.CustomResourceSubresourceScale) *customScale {
	c := &customScale{spec: jsonPathFields(s.SpecReplicasPath), status: jsonPathFields(s.StatusReplicasPath)}
	if s.LabelSelectorPath != nil {
		c.selector = jsonPathFields(*s.LabelSelectorPath)
	}
	return c
}

func jsonPathFields(p string) []string { return strings.Split(strings.TrimPrefix(p, "."), ".") }

// of is the object's Scale; a missing replicas count is 0, as in kube.
func (c *customScale) of(obj runtime.Object) (*autoscalingv1.Scale, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, apierrors.NewInternalError(fmt.Errorf("%T is not a custom resource", obj))
	}
	spec, _, err := unstructured.NestedInt64(u.Object, c.spec...)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	status, _, _ := unstructured.NestedInt64(u.Object, c.status...)
	sc := &autoscalingv1.Scale{TypeMeta: metav1.TypeMeta{Kind: scaleGVK.Kind, APIVersion: scaleGVK.GroupVersion().String()},
		ObjectMeta: metav1.ObjectMeta{Name: u.GetName(), Namespace: u.GetNamespace(), UID: u.GetUID(),
			ResourceVersion: u.GetResourceVersion(), CreationTimestamp: u.GetCreationTimestamp()},
		Spec: autoscalingv1.ScaleSpec{Replicas: int32(spec)}, Status: autoscalingv1.ScaleStatus{Replicas: int32(status)}}
	if c.selector != nil {
		sc.Status.Selector, _, _ = unstructured.NestedString(u.Object, c.selector...)
	}
	return sc, nil
}

// set writes the replicas count at specReplicasPath.
func (c *customScale) set(obj runtime.Object, n int32) (runtime.Object, error) {
	u := obj.(*unstructured.Unstructured)
	if err := unstructured.SetNestedField(u.Object, int64(n), c.spec...); err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	return u, nil
}
