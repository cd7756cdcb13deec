package endpoints

import (
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	// LabelManagedBy and ControllerName mark the Endpoints this
	// controller keeps (kube's endpoints controller's label).
	LabelManagedBy = "endpoints.kubernetes.io/managed-by"
	ControllerName = "endpoint-controller"
	labelHeadless  = "service.kubernetes.io/headless"
)

// Build returns the Endpoints the service should have: cur (nil when there
// is none) with the subsets, labels and annotations set. trigger is the
// last-change-trigger-time (zero: none).
func Build(svc *corev1.Service, subsets []corev1.EndpointSubset, truncated bool, cur *corev1.Endpoints, trigger time.Time) *corev1.Endpoints {
	ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: svc.Name, Namespace: svc.Namespace}}
	if cur != nil {
		ep = cur.DeepCopy()
	}
	ep.Subsets = subsets
	ep.Labels = wantLabels(svc)
	if ep.Annotations == nil {
		ep.Annotations = map[string]string{}
	}
	setOrDelete(ep.Annotations, corev1.EndpointsOverCapacity, "truncated", truncated)
	setOrDelete(ep.Annotations, corev1.EndpointsLastChangeTriggerTime, trigger.UTC().Format(time.RFC3339Nano), !trigger.IsZero())
	if len(ep.Annotations) == 0 {
		ep.Annotations = nil
	}
	return ep
}

// wantLabels: the service's labels, this controller's mark, skip-mirror
// (the endpointslice controller makes the slices of this service), and
// the headless label for a headless service.
func wantLabels(svc *corev1.Service) map[string]string {
	l := maps.Clone(svc.Labels)
	if l == nil {
		l = map[string]string{}
	}
	l[LabelManagedBy] = ControllerName
	l[discoveryv1.LabelSkipMirror] = "true"
	setOrDelete(l, labelHeadless, "", svc.Spec.ClusterIP == corev1.ClusterIPNone)
	return l
}

func setOrDelete(m map[string]string, key, value string, set bool) {
	if set {
		m[key] = value
	} else {
		delete(m, key)
	}
}

// NeedsWrite reports whether cur differs from want in what this
// controller keeps: subsets, labels and the over-capacity annotation (a
// new trigger time alone is not written).
func NeedsWrite(cur, want *corev1.Endpoints) bool {
	if cur == nil {
		return true
	}
	return !apiequality.Semantic.DeepEqual(cur.Subsets, want.Subsets) ||
		!maps.Equal(cur.Labels, want.Labels) ||
		cur.Annotations[corev1.EndpointsOverCapacity] != want.Annotations[corev1.EndpointsOverCapacity]
}

// Managed reports whether ep is one this controller keeps.
func Managed(ep *corev1.Endpoints) bool {
	return ep.Labels[LabelManagedBy] == ControllerName
}
