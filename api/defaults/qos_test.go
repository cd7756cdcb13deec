package defaults

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestPodQOSClass(t *testing.T) {
	res := func(requests, limits string) corev1.ResourceRequirements {
		return corev1.ResourceRequirements{Requests: list(requests), Limits: list(limits)}
	}
	tests := []struct {
		name     string
		init     []corev1.ResourceRequirements
		app      []corev1.ResourceRequirements
		podLevel *corev1.ResourceRequirements
		want     corev1.PodQOSClass
	}{
		{name: "nothing", app: []corev1.ResourceRequirements{{}}, want: corev1.PodQOSBestEffort},
		{name: "only extended resources", app: []corev1.ResourceRequirements{res("example.com/gpu=1", "example.com/gpu=1")}, want: corev1.PodQOSBestEffort},
		{name: "zero requests", app: []corev1.ResourceRequirements{res("cpu=0", "")}, want: corev1.PodQOSBestEffort},
		{name: "requests equal limits", app: []corev1.ResourceRequirements{res("cpu=1,memory=1Gi", "cpu=1,memory=1Gi")}, want: corev1.PodQOSGuaranteed},
		{name: "equal in another unit", app: []corev1.ResourceRequirements{res("cpu=1000m,memory=1024Mi", "cpu=1,memory=1Gi")}, want: corev1.PodQOSGuaranteed},
		{name: "only limits", app: []corev1.ResourceRequirements{res("", "cpu=1,memory=1Gi")}, want: corev1.PodQOSBurstable},
		{name: "request below limit", app: []corev1.ResourceRequirements{res("cpu=500m,memory=1Gi", "cpu=1,memory=1Gi")}, want: corev1.PodQOSBurstable},
		{name: "cpu limit only", app: []corev1.ResourceRequirements{res("cpu=1", "cpu=1")}, want: corev1.PodQOSBurstable},
		{name: "one container best effort", app: []corev1.ResourceRequirements{res("cpu=1,memory=1Gi", "cpu=1,memory=1Gi"), {}}, want: corev1.PodQOSBurstable},
		{name: "init container counts", init: []corev1.ResourceRequirements{res("cpu=100m", "")}, app: []corev1.ResourceRequirements{{}}, want: corev1.PodQOSBurstable},
		{name: "pod-level guaranteed", app: []corev1.ResourceRequirements{{}}, podLevel: &corev1.ResourceRequirements{Requests: list("cpu=1,memory=1Gi"), Limits: list("cpu=1,memory=1Gi")}, want: corev1.PodQOSGuaranteed},
		{name: "pod-level burstable", app: []corev1.ResourceRequirements{res("cpu=1,memory=1Gi", "cpu=1,memory=1Gi")}, podLevel: &corev1.ResourceRequirements{Requests: list("cpu=1")}, want: corev1.PodQOSBurstable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &corev1.Pod{Spec: corev1.PodSpec{Resources: tt.podLevel}}
			for _, r := range tt.init {
				p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Resources: r})
			}
			for _, r := range tt.app {
				p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Resources: r})
			}
			if got := PodQOSClass(p); got != tt.want {
				t.Errorf("PodQOSClass = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestPodComputesQOSAfterDefaultingRequests(t *testing.T) {
	p := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "c", Resources: corev1.ResourceRequirements{Limits: list("cpu=1,memory=1Gi")},
	}}}}
	Pod(p)
	if p.Status.QOSClass != corev1.PodQOSGuaranteed {
		t.Errorf("qosClass = %s, want Guaranteed", p.Status.QOSClass)
	}
}

// list parses "cpu=1,memory=1Gi" into a ResourceList; "" is nil.
func list(s string) corev1.ResourceList {
	if s == "" {
		return nil
	}
	out := corev1.ResourceList{}
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(kv, "=")
		out[corev1.ResourceName(k)] = resource.MustParse(v)
	}
	return out
}
