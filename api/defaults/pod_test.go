package defaults

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestPodMinimal(t *testing.T) {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "web", Image: "nginx",
			Ports: []corev1.ContainerPort{{ContainerPort: 80}},
		}}},
	}
	want := &corev1.Pod{
		ObjectMeta: p.ObjectMeta,
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name: "web", Image: "nginx",
				Ports:                    []corev1.ContainerPort{{ContainerPort: 80, Protocol: corev1.ProtocolTCP}},
				ImagePullPolicy:          corev1.PullAlways,
				TerminationMessagePath:   "/dev/termination-log",
				TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			}},
			RestartPolicy:                 corev1.RestartPolicyAlways,
			DNSPolicy:                     corev1.DNSClusterFirst,
			TerminationGracePeriodSeconds: ptrTo(int64(30)),
			SchedulerName:                 "default-scheduler",
			SecurityContext:               &corev1.PodSecurityContext{},
			EnableServiceLinks:            ptrTo(true),
			ServiceAccountName:            "default",
			DeprecatedServiceAccount:      "default",
			Tolerations: []corev1.Toleration{
				{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptrTo(int64(300))},
				{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptrTo(int64(300))},
			},
		},
		Status: corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.PodQOSBestEffort},
	}
	Pod(p)
	PodAdmitted(p)
	assertEqual(t, p, want)

	again := p.DeepCopy()
	Pod(again)
	PodAdmitted(again)
	assertEqual(t, again, p) // idempotent

	// The API defaults alone name no account and add no toleration: those
	// are admission's.
	bare := &corev1.Pod{ObjectMeta: p.ObjectMeta, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}}}
	Pod(bare)
	if bare.Spec.ServiceAccountName != "" || len(bare.Spec.Tolerations) != 0 {
		t.Errorf("Pod added admission's fields: %q %v", bare.Spec.ServiceAccountName, bare.Spec.Tolerations)
	}
}

func TestPullPolicy(t *testing.T) {
	tests := []struct {
		image string
		want  corev1.PullPolicy
	}{
		{"nginx", corev1.PullAlways},
		{"nginx:latest", corev1.PullAlways},
		{"nginx:1.27", corev1.PullIfNotPresent},
		{"registry:5000/nginx", corev1.PullAlways},
		{"registry:5000/team/nginx:v1", corev1.PullIfNotPresent},
		{"nginx@sha256:0123abcd", corev1.PullIfNotPresent},
		{"nginx:latest@sha256:0123abcd", corev1.PullAlways},
		{"localhost:5000/nginx:latest", corev1.PullAlways},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			if got := pullPolicy(tt.image); got != tt.want {
				t.Errorf("pullPolicy(%q) = %s, want %s", tt.image, got, tt.want)
			}
		})
	}
}

func TestPodContainerDefaults(t *testing.T) {
	probe := func() *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(8080)}}}
	}
	wantProbe := &corev1.Probe{
		ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(8080), Scheme: corev1.URISchemeHTTP}},
		TimeoutSeconds:   1,
		PeriodSeconds:    10,
		SuccessThreshold: 1,
		FailureThreshold: 3,
	}
	tests := []struct {
		name  string
		in    corev1.Container
		check func(t *testing.T, c corev1.Container)
	}{{
		name: "probes",
		in:   corev1.Container{Name: "c", Image: "i:1", LivenessProbe: probe(), ReadinessProbe: probe(), StartupProbe: probe()},
		check: func(t *testing.T, c corev1.Container) {
			assertEqual(t, c.LivenessProbe, wantProbe)
			assertEqual(t, c.ReadinessProbe, wantProbe)
			assertEqual(t, c.StartupProbe, wantProbe)
		},
	}, {
		name: "probe values kept",
		in: corev1.Container{Name: "c", Image: "i:1", LivenessProbe: &corev1.Probe{
			ProbeHandler:   corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(1)}},
			TimeoutSeconds: 5, PeriodSeconds: 7, SuccessThreshold: 1, FailureThreshold: 9,
		}},
		check: func(t *testing.T, c corev1.Container) {
			p := c.LivenessProbe
			if p.TimeoutSeconds != 5 || p.PeriodSeconds != 7 || p.FailureThreshold != 9 {
				t.Errorf("probe overwritten: %+v", p)
			}
		},
	}, {
		name: "lifecycle httpGet",
		in: corev1.Container{Name: "c", Image: "i:1", Lifecycle: &corev1.Lifecycle{
			PreStop: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/quit", Port: intstr.FromInt32(80)}},
		}},
		check: func(t *testing.T, c corev1.Container) {
			if s := c.Lifecycle.PreStop.HTTPGet.Scheme; s != corev1.URISchemeHTTP {
				t.Errorf("scheme = %q, want HTTP", s)
			}
			if p := c.Lifecycle.PreStop.HTTPGet.Path; p != "/quit" {
				t.Errorf("path = %q, want /quit", p)
			}
		},
	}, {
		name: "env fieldRef apiVersion",
		in: corev1.Container{Name: "c", Image: "i:1", Env: []corev1.EnvVar{
			{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "PLAIN", Value: "x"},
		}},
		check: func(t *testing.T, c corev1.Container) {
			if v := c.Env[0].ValueFrom.FieldRef.APIVersion; v != "v1" {
				t.Errorf("apiVersion = %q, want v1", v)
			}
		},
	}, {
		name: "explicit values kept",
		in: corev1.Container{Name: "c", Image: "i", ImagePullPolicy: corev1.PullNever,
			TerminationMessagePath: "/tmp/t", TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
			Ports: []corev1.ContainerPort{{ContainerPort: 53, Protocol: corev1.ProtocolUDP}}},
		check: func(t *testing.T, c corev1.Container) {
			if c.ImagePullPolicy != corev1.PullNever || c.TerminationMessagePath != "/tmp/t" ||
				c.TerminationMessagePolicy != corev1.TerminationMessageFallbackToLogsOnError || c.Ports[0].Protocol != corev1.ProtocolUDP {
				t.Errorf("explicit values overwritten: %+v", c)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, init := range []bool{false, true} {
				p := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{tt.in}}}
				if init {
					p.Spec.InitContainers = []corev1.Container{*tt.in.DeepCopy()}
				}
				Pod(p)
				tt.check(t, p.Spec.Containers[0])
				if init {
					tt.check(t, p.Spec.InitContainers[0])
				}
			}
		})
	}
}

func TestEphemeralContainerDefaults(t *testing.T) {
	p := &corev1.Pod{Spec: corev1.PodSpec{EphemeralContainers: []corev1.EphemeralContainer{{
		EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox:1.36"},
	}}}}
	Pod(p)
	c := p.Spec.EphemeralContainers[0]
	if c.ImagePullPolicy != corev1.PullIfNotPresent || c.TerminationMessagePath != "/dev/termination-log" {
		t.Errorf("ephemeral container not defaulted: %+v", c)
	}
}

func TestPodVolumeDefaults(t *testing.T) {
	mode := int32(0o600)
	tests := []struct {
		name string
		in   corev1.VolumeSource
		want corev1.VolumeSource
	}{
		{"no source is emptyDir", corev1.VolumeSource{}, corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{"secret", corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}},
			corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s", DefaultMode: ptrTo(int32(420))}}},
		{"secret mode kept", corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s", DefaultMode: &mode}},
			corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s", DefaultMode: &mode}}},
		{"configMap", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}}},
			corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}, DefaultMode: ptrTo(int32(420))}}},
		{"hostPath", corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/data"}},
			corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/data", Type: ptrTo(corev1.HostPathUnset)}}},
		{"downwardAPI", corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
			{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}},
			corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{DefaultMode: ptrTo(int32(420)), Items: []corev1.DownwardAPIVolumeFile{
				{Path: "name", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}}}}},
		{"projected token", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}}}}},
			corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{DefaultMode: ptrTo(int32(420)), Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptrTo(int64(3600))}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &corev1.Pod{Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "v", VolumeSource: tt.in}}}}
			Pod(p)
			assertEqual(t, p.Spec.Volumes[0].VolumeSource, tt.want)
		})
	}
}

func TestPodTolerations(t *testing.T) {
	notReady := corev1.Toleration{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptrTo(int64(300))}
	unreachable := corev1.Toleration{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptrTo(int64(300))}
	custom := corev1.Toleration{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptrTo(int64(5))}
	all := corev1.Toleration{Operator: corev1.TolerationOpExists}
	noSchedule := corev1.Toleration{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
	tests := []struct {
		name string
		in   []corev1.Toleration
		want []corev1.Toleration
	}{
		{"none", nil, []corev1.Toleration{notReady, unreachable}},
		{"custom not-ready kept", []corev1.Toleration{custom}, []corev1.Toleration{custom, unreachable}},
		{"tolerate everything", []corev1.Toleration{all}, []corev1.Toleration{all}},
		{"NoSchedule does not count", []corev1.Toleration{noSchedule}, []corev1.Toleration{noSchedule, notReady, unreachable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &corev1.Pod{Spec: corev1.PodSpec{Tolerations: tt.in}}
			PodAdmitted(p)
			assertEqual(t, p.Spec.Tolerations, tt.want)
		})
	}
}

func TestPodSpecDefaults(t *testing.T) {
	tests := []struct {
		name  string
		spec  corev1.PodSpec
		check func(t *testing.T, s corev1.PodSpec)
	}{{
		name: "hostNetwork copies containerPort into hostPort",
		spec: corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{{ContainerPort: 8080}}}}},
		check: func(t *testing.T, s corev1.PodSpec) {
			if hp := s.Containers[0].Ports[0].HostPort; hp != 8080 {
				t.Errorf("hostPort = %d, want 8080", hp)
			}
		},
	}, {
		name: "no hostNetwork leaves hostPort",
		spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{{ContainerPort: 8080}}}}},
		check: func(t *testing.T, s corev1.PodSpec) {
			if hp := s.Containers[0].Ports[0].HostPort; hp != 0 {
				t.Errorf("hostPort = %d, want 0", hp)
			}
		},
	}, {
		name: "requests default to limits",
		spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{
			Limits:   corev1.ResourceList{"cpu": resource.MustParse("1"), "memory": resource.MustParse("1Gi")},
			Requests: corev1.ResourceList{"cpu": resource.MustParse("500m")},
		}}}},
		check: func(t *testing.T, s corev1.PodSpec) {
			assertEqual(t, s.Containers[0].Resources.Requests, corev1.ResourceList{"cpu": resource.MustParse("500m"), "memory": resource.MustParse("1Gi")})
		},
	}, {
		name: "deprecated serviceAccount is honoured",
		spec: corev1.PodSpec{DeprecatedServiceAccount: "builder"},
		check: func(t *testing.T, s corev1.PodSpec) {
			if s.ServiceAccountName != "builder" || s.DeprecatedServiceAccount != "builder" {
				t.Errorf("serviceAccountName = %q, serviceAccount = %q", s.ServiceAccountName, s.DeprecatedServiceAccount)
			}
		},
	}, {
		name: "explicit values kept",
		spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, DNSPolicy: corev1.DNSDefault, SchedulerName: "mine",
			TerminationGracePeriodSeconds: ptrTo(int64(0)), EnableServiceLinks: ptrTo(false), ServiceAccountName: "sa"},
		check: func(t *testing.T, s corev1.PodSpec) {
			if s.RestartPolicy != corev1.RestartPolicyNever || s.DNSPolicy != corev1.DNSDefault || s.SchedulerName != "mine" ||
				*s.TerminationGracePeriodSeconds != 0 || *s.EnableServiceLinks || s.ServiceAccountName != "sa" {
				t.Errorf("explicit values overwritten: %+v", s)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &corev1.Pod{Spec: tt.spec}
			Pod(p)
			tt.check(t, p.Spec)
		})
	}
}

func TestPodStatusKept(t *testing.T) {
	p := &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning, QOSClass: corev1.PodQOSGuaranteed}}
	Pod(p)
	if p.Status.Phase != corev1.PodRunning || p.Status.QOSClass != corev1.PodQOSGuaranteed {
		t.Errorf("status overwritten: %+v", p.Status)
	}
}

func assertEqual(t *testing.T, got, want any) {
	t.Helper()
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", toJSON(got), toJSON(want))
	}
}

func toJSON(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// kube's ServiceAccount admission leaves mirror pods without a service
// account (and a kubelet's static pods never meet it); every other pod gets
// "default".
func TestNoDefaultServiceAccountForMirrorAndStaticPods(t *testing.T) {
	mirror := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{MirrorPodAnnotation: "h"}}}
	Pod(mirror)
	PodAdmitted(mirror)
	static := &corev1.Pod{}
	StaticPod(static)
	named := &corev1.Pod{Spec: corev1.PodSpec{DeprecatedServiceAccount: "builder"}}
	StaticPod(named)
	plain := &corev1.Pod{}
	Pod(plain)
	PodAdmitted(plain)
	for _, c := range []struct {
		name string
		pod  *corev1.Pod
		want string
	}{{"mirror", mirror, ""}, {"static", static, ""}, {"static naming one", named, "builder"}, {"plain", plain, "default"}} {
		if s := c.pod.Spec; s.ServiceAccountName != c.want || s.DeprecatedServiceAccount != c.want {
			t.Errorf("%s: serviceAccountName %q, serviceAccount %q; want %q", c.name, s.ServiceAccountName, s.DeprecatedServiceAccount, c.want)
		}
	}
}

// A pod's priority is the API server's admission's; a static pod, which
// no admission sees, gets the value of a built-in class it names and
// nothing for another class.
func TestPodPriority(t *testing.T) {
	p := &corev1.Pod{Spec: corev1.PodSpec{PriorityClassName: "system-node-critical"}}
	Pod(p)
	if p.Spec.Priority != nil || p.Spec.PreemptionPolicy != nil {
		t.Errorf("Pod set priority %v, policy %v", p.Spec.Priority, p.Spec.PreemptionPolicy)
	}
	StaticPod(p)
	if p.Spec.Priority == nil || *p.Spec.Priority != 2000001000 || *p.Spec.PreemptionPolicy != corev1.PreemptLowerPriority {
		t.Errorf("static pod of system-node-critical: priority %v, policy %v", p.Spec.Priority, p.Spec.PreemptionPolicy)
	}
	other := &corev1.Pod{Spec: corev1.PodSpec{PriorityClassName: "high"}}
	StaticPod(other)
	if other.Spec.Priority != nil {
		t.Errorf("static pod of a user class: priority %d", *other.Spec.Priority)
	}
}
