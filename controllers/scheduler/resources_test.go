package scheduler

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestPodRequests(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	ctr := func(cpu, mem string) corev1.Container {
		return corev1.Container{Resources: corev1.ResourceRequirements{Requests: resources(cpu, mem, "", "")}}
	}
	sidecar := func(cpu, mem string) corev1.Container {
		c := ctr(cpu, mem)
		c.RestartPolicy = &always
		return c
	}
	tests := []struct {
		name     string
		spec     corev1.PodSpec
		cpu, mem string
	}{
		{"nothing", corev1.PodSpec{Containers: []corev1.Container{{}}}, "0", "0"},
		{"sum of app containers", corev1.PodSpec{Containers: []corev1.Container{ctr("100m", "1Gi"), ctr("200m", "")}}, "300m", "1Gi"},
		{"init larger than apps", corev1.PodSpec{InitContainers: []corev1.Container{ctr("2", "")},
			Containers: []corev1.Container{ctr("500m", "1Gi")}}, "2", "1Gi"},
		{"max of init containers, not sum", corev1.PodSpec{InitContainers: []corev1.Container{ctr("1", "2Gi"), ctr("1500m", "1Gi")},
			Containers: []corev1.Container{ctr("1", "")}}, "1500m", "2Gi"},
		{"sidecar runs with apps", corev1.PodSpec{InitContainers: []corev1.Container{sidecar("1", "1Gi")},
			Containers: []corev1.Container{ctr("1", "1Gi")}}, "2", "2Gi"},
		{"sidecar runs with later init", corev1.PodSpec{InitContainers: []corev1.Container{sidecar("1", ""), ctr("2", "")},
			Containers: []corev1.Container{ctr("500m", "")}}, "3", "0"},
		{"overhead added", corev1.PodSpec{Containers: []corev1.Container{ctr("1", "1Gi")},
			Overhead: resources("250m", "64Mi", "", "")}, "1250m", "1088Mi"},
	}
	for _, tt := range tests {
		got := podRequests(&corev1.Pod{Spec: tt.spec})
		want := resources(tt.cpu, tt.mem, "", "")
		if got.Cpu().Cmp(*want.Cpu()) != 0 || got.Memory().Cmp(*want.Memory()) != 0 {
			t.Errorf("%s: requests cpu=%s mem=%s, want cpu=%s mem=%s", tt.name, got.Cpu(), got.Memory(), tt.cpu, tt.mem)
		}
	}
}
