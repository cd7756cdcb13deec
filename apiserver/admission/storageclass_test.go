package admission

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type classList []*storagev1.StorageClass

func (l classList) StorageClasses(context.Context) ([]*storagev1.StorageClass, error) { return l, nil }

func class(name string, created time.Time, def string) *storagev1.StorageClass {
	return &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(created),
		Annotations: map[string]string{IsDefaultClassAnnotation: def}}}
}

func TestDefaultStorageClass(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	empty := ""
	tests := []struct {
		name    string
		classes classList
		claim   *corev1.PersistentVolumeClaim
		want    *string
	}{
		{"no default", classList{class("a", t0, "false")}, &corev1.PersistentVolumeClaim{}, nil},
		{"the default", classList{class("a", t0, "false"), class("b", t0, "true")}, &corev1.PersistentVolumeClaim{}, ptr("b")},
		{"the newest default", classList{class("old", t0, "true"), class("new", t0.Add(time.Hour), "true")}, &corev1.PersistentVolumeClaim{}, ptr("new")},
		{"a tie goes to the first name", classList{class("z", t0, "true"), class("m", t0, "true")}, &corev1.PersistentVolumeClaim{}, ptr("m")},
		{"explicit empty class", classList{class("b", t0, "true")},
			&corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: &empty}}, &empty},
		{"beta annotation", classList{class("b", t0, "true")},
			&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{corev1.BetaStorageClassAnnotation: "x"}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Attributes{Operation: Create, Resource: claimsResource, Object: tt.claim}
			if err := DefaultStorageClass(context.Background(), a, tt.classes); err != nil {
				t.Fatal(err)
			}
			got := tt.claim.Spec.StorageClassName
			if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
				t.Errorf("class %v, want %v", deref(got), deref(tt.want))
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
