package defaults

import (
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestObjectDefaults(t *testing.T) {
	tests := []struct {
		name  string
		apply func(obj any)
		in    any
		want  any
	}{{
		name:  "namespace",
		apply: func(o any) { Namespace(o.(*corev1.Namespace)) },
		in:    &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}},
		want: &corev1.Namespace{
			ObjectMeta: metav1.ObjectMeta{Name: "team", Labels: map[string]string{"kubernetes.io/metadata.name": "team"}},
			Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
		},
	}, {
		name:  "namespace on create",
		apply: func(o any) { NamespaceCreate(o.(*corev1.Namespace)) },
		in:    &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team", Labels: map[string]string{"kubernetes.io/metadata.name": "other", "a": "b"}}},
		want: &corev1.Namespace{
			ObjectMeta: metav1.ObjectMeta{Name: "team", Labels: map[string]string{"kubernetes.io/metadata.name": "team", "a": "b"}},
			Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"kubernetes"}},
			Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
		},
	}, {
		name:  "namespace finalizer not duplicated",
		apply: func(o any) { NamespaceCreate(o.(*corev1.Namespace)) },
		in:    &corev1.Namespace{Spec: corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"kubernetes"}}},
		want: &corev1.Namespace{
			Spec:   corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"kubernetes"}},
			Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
		},
	}, {
		name:  "secret",
		apply: func(o any) { Secret(o.(*corev1.Secret)) },
		in:    &corev1.Secret{},
		want:  &corev1.Secret{Type: corev1.SecretTypeOpaque},
	}, {
		name:  "secret stringData merged",
		apply: func(o any) { Secret(o.(*corev1.Secret)) },
		in: &corev1.Secret{Type: corev1.SecretTypeBasicAuth, Data: map[string][]byte{"username": []byte("a"), "password": []byte("old")},
			StringData: map[string]string{"password": "new"}},
		want: &corev1.Secret{Type: corev1.SecretTypeBasicAuth, Data: map[string][]byte{"username": []byte("a"), "password": []byte("new")}},
	}, {
		name:  "node allocatable",
		apply: func(o any) { Node(o.(*corev1.Node)) },
		in:    &corev1.Node{Status: corev1.NodeStatus{Capacity: list("cpu=2,memory=4Gi")}},
		want:  &corev1.Node{Status: corev1.NodeStatus{Capacity: list("cpu=2,memory=4Gi"), Allocatable: list("cpu=2,memory=4Gi")}},
	}, {
		name:  "persistent volume",
		apply: func(o any) { PersistentVolume(o.(*corev1.PersistentVolume)) },
		in:    &corev1.PersistentVolume{Spec: corev1.PersistentVolumeSpec{PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/d"}}}},
		want: &corev1.PersistentVolume{
			Spec: corev1.PersistentVolumeSpec{
				PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/d", Type: ptrTo(corev1.HostPathUnset)}},
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
				VolumeMode:                    ptrTo(corev1.PersistentVolumeFilesystem),
			},
			Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumePending},
		},
	}, {
		name:  "persistent volume claim",
		apply: func(o any) { PersistentVolumeClaim(o.(*corev1.PersistentVolumeClaim)) },
		in:    &corev1.PersistentVolumeClaim{},
		want: &corev1.PersistentVolumeClaim{
			Spec:   corev1.PersistentVolumeClaimSpec{VolumeMode: ptrTo(corev1.PersistentVolumeFilesystem)},
			Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending},
		},
	}, {
		name:  "endpoint slice",
		apply: func(o any) { EndpointSlice(o.(*discoveryv1.EndpointSlice)) },
		in:    &discoveryv1.EndpointSlice{Ports: []discoveryv1.EndpointPort{{Port: ptrTo(int32(80))}}},
		want:  &discoveryv1.EndpointSlice{Ports: []discoveryv1.EndpointPort{{Port: ptrTo(int32(80)), Name: ptrTo(""), Protocol: ptrTo(corev1.ProtocolTCP)}}},
	}, {
		name:  "event untouched",
		apply: func(o any) { Event(o.(*corev1.Event)) },
		in:    &corev1.Event{Reason: "Started"},
		want:  &corev1.Event{Reason: "Started"},
	}, {
		name:  "service account untouched",
		apply: func(o any) { ServiceAccount(o.(*corev1.ServiceAccount)) },
		in:    &corev1.ServiceAccount{},
		want:  &corev1.ServiceAccount{},
	}, {
		name:  "config map untouched",
		apply: func(o any) { ConfigMap(o.(*corev1.ConfigMap)) },
		in:    &corev1.ConfigMap{Data: map[string]string{"a": "b"}},
		want:  &corev1.ConfigMap{Data: map[string]string{"a": "b"}},
	}, {
		name:  "lease untouched",
		apply: func(o any) { Lease(o.(*coordinationv1.Lease)) },
		in:    &coordinationv1.Lease{},
		want:  &coordinationv1.Lease{},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.apply(tt.in)
			assertEqual(t, tt.in, tt.want)
		})
	}
}
