// Package svckeys maps informer events onto the Service keys
// ("namespace/name") the endpoint controllers work on: the Services that
// select a pod, and the Service an EndpointSlice carries in its label.
package svckeys

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// SelectingPods calls add with the key of every Service in services whose
// selector matches one of pods now or matched it before the change (obj
// and old of an informer event; either may be nil or a tombstone).
func SelectingPods(services corelisters.ServiceLister, add func(string), pods ...any) {
	for _, o := range pods {
		if t, ok := o.(cache.DeletedFinalStateUnknown); ok {
			o = t.Obj
		}
		pod, ok := o.(*corev1.Pod)
		if !ok {
			continue
		}
		svcs, err := services.Services(pod.Namespace).List(labels.Everything())
		if err != nil {
			continue
		}
		for _, s := range svcs {
			if len(s.Spec.Selector) > 0 && labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(pod.Labels)) {
				add(s.Namespace + "/" + s.Name)
			}
		}
	}
}

// OfSlice is the key of the Service an EndpointSlice that managedBy
// manages names in its service-name label; ok is false for any other
// object.
func OfSlice(obj any, managedBy string) (string, bool) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok || s.Labels[discoveryv1.LabelManagedBy] != managedBy || s.Labels[discoveryv1.LabelServiceName] == "" {
		return "", false
	}
	return s.Namespace + "/" + s.Labels[discoveryv1.LabelServiceName], true
}
