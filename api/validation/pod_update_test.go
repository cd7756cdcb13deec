package validation

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// storedPod is validPod as it would come back from storage.
func storedPod() *corev1.Pod {
	p := validPod()
	p.ResourceVersion = "7"
	p.UID = "0b1c"
	return p
}

func TestPodUpdate(t *testing.T) {
	tests := []struct {
		name   string
		old    func(p *corev1.Pod)
		mutate func(p *corev1.Pod)
		want   []string
	}{
		{"no change", nil, func(p *corev1.Pod) {}, nil},
		{"image", nil, func(p *corev1.Pod) { p.Spec.Containers[0].Image = "nginx:1.28" }, nil},
		{"labels", nil, func(p *corev1.Pod) { p.Labels["tier"] = "front" }, nil},
		{"empty image", nil, func(p *corev1.Pod) { p.Spec.Containers[0].Image = "" }, []string{"spec.containers[0].image: Required value"}},
		{"name", nil, func(p *corev1.Pod) { p.Name = "other" }, []string{"metadata.name: Invalid value"}},
		{"no resourceVersion", nil, func(p *corev1.Pod) { p.ResourceVersion = "" }, []string{"metadata.resourceVersion: Invalid value"}},
		{"nodeName", nil, func(p *corev1.Pod) { p.Spec.NodeName = "node-1" }, []string{"spec: Forbidden"}},
		{"env", nil, func(p *corev1.Pod) { p.Spec.Containers[0].Env[0].Value = "dev" }, []string{"spec: Forbidden"}},
		{"add container", nil, func(p *corev1.Pod) {
			c := p.Spec.Containers[0].DeepCopy()
			c.Name, c.Ports = "second", nil
			p.Spec.Containers = append(p.Spec.Containers, *c)
		}, []string{"spec.containers: Forbidden"}},
		{"set deadline", nil, func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptrTo(int64(60)) }, nil},
		{"lower deadline", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptrTo(int64(60)) },
			func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptrTo(int64(30)) }, nil},
		{"raise deadline", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptrTo(int64(60)) },
			func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptrTo(int64(90)) }, []string{"spec.activeDeadlineSeconds: Invalid value"}},
		{"remove deadline", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptrTo(int64(60)) },
			func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = nil }, []string{"spec.activeDeadlineSeconds: Invalid value"}},
		{"add toleration", nil, func(p *corev1.Pod) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: "gpu", Operator: corev1.TolerationOpExists})
		}, nil},
		{"change tolerationSeconds", nil, func(p *corev1.Pod) { p.Spec.Tolerations[0].TolerationSeconds = ptrTo(int64(10)) }, nil},
		{"remove toleration", nil, func(p *corev1.Pod) { p.Spec.Tolerations = p.Spec.Tolerations[1:] }, []string{"spec.tolerations: Forbidden"}},
		{"grace period", nil, func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = ptrTo(int64(60)) }, []string{"spec: Forbidden"}},
		{"negative grace period to 1", func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = ptrTo(int64(-1)) },
			func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = ptrTo(int64(1)) }, nil},
		{"remove scheduling gate", func(p *corev1.Pod) { p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/a"}} },
			func(p *corev1.Pod) { p.Spec.SchedulingGates = nil }, nil},
		{"add scheduling gate", nil, func(p *corev1.Pod) { p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/a"}} },
			[]string{"spec.schedulingGates: Forbidden"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := storedPod()
			if tt.old != nil {
				tt.old(old)
			}
			p := old.DeepCopy()
			tt.mutate(p)
			assertErrors(t, PodUpdate(p, old), tt.want)
		})
	}
}

func TestPodUpdateNamesChangedFields(t *testing.T) {
	old := storedPod()
	p := old.DeepCopy()
	p.Spec.NodeName = "node-1"
	p.Spec.Containers[0].Image = "nginx:1.28"
	errs := PodUpdate(p, old)
	if len(errs) != 1 {
		t.Fatalf("errs = %v", errs)
	}
	if d := errs[0].Detail; !strings.HasPrefix(d, "pod updates may not change fields other than `spec.containers[*].image`") ||
		!strings.HasSuffix(d, "changed: spec.nodeName") {
		t.Errorf("detail = %q", d)
	}
}

func TestPodStatusUpdate(t *testing.T) {
	tests := []struct {
		name   string
		old    func(p *corev1.Pod)
		mutate func(p *corev1.Pod)
		want   []string
	}{
		{"running", nil, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodRunning
			p.Status.PodIP = "10.244.0.5"
			p.Status.PodIPs = []corev1.PodIP{{IP: "10.244.0.5"}, {IP: "fd00::5"}}
			p.Status.HostIP = "192.168.1.10"
			p.Status.HostIPs = []corev1.HostIP{{IP: "192.168.1.10"}}
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		}, nil},
		{"unknown phase", nil, func(p *corev1.Pod) { p.Status.Phase = "Sleeping" }, []string{"status.phase: Unsupported value"}},
		{"leave terminal phase", func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded },
			func(p *corev1.Pod) { p.Status.Phase = corev1.PodRunning }, []string{"status.phase: Forbidden"}},
		{"qosClass", nil, func(p *corev1.Pod) { p.Status.QOSClass = corev1.PodQOSGuaranteed }, []string{"status.qosClass: Invalid value"}},
		{"bad podIP", nil, func(p *corev1.Pod) { p.Status.PodIP = "10.244.0.300" }, []string{"status.podIP: Invalid value"}},
		{"podIPs disagree", nil, func(p *corev1.Pod) {
			p.Status.PodIP = "10.244.0.5"
			p.Status.PodIPs = []corev1.PodIP{{IP: "10.244.0.6"}}
		}, []string{"status.podIPs[0].ip: Invalid value"}},
		{"two IPv4 podIPs", nil, func(p *corev1.Pod) {
			p.Status.PodIP = "10.244.0.5"
			p.Status.PodIPs = []corev1.PodIP{{IP: "10.244.0.5"}, {IP: "10.244.0.6"}}
		}, []string{"status.podIPs: Invalid value"}},
		{"condition status", nil, func(p *corev1.Pod) {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: "Yes"}}
		}, []string{"status.conditions[0].status: Unsupported value"}},
		{"restart under Never", func(p *corev1.Pod) {
			p.Spec.RestartPolicy = corev1.RestartPolicyNever
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "web", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}}}
		}, func(p *corev1.Pod) {
			p.Status.ContainerStatuses[0].State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
		}, []string{"status.containerStatuses[0].state: Forbidden"}},
		{"restart under Always", func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "web", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}}}
		}, func(p *corev1.Pod) {
			p.Status.ContainerStatuses[0].State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := storedPod()
			if tt.old != nil {
				tt.old(old)
			}
			p := old.DeepCopy()
			tt.mutate(p)
			assertErrors(t, PodStatusUpdate(p, old), tt.want)
		})
	}
}
