package validation

import (
	"testing"

	"github.com/nodeagent/nodeagent/api/defaults"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// validPod is a defaulted pod with one container, a port, an env var and a
// mounted volume.
func validPod() *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:         "web",
				Image:        "nginx:1.27",
				Ports:        []corev1.ContainerPort{{Name: "http", ContainerPort: 80}},
				Env:          []corev1.EnvVar{{Name: "MODE", Value: "prod"}},
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
			}},
			Volumes: []corev1.Volume{{Name: "data"}},
		},
	}
	defaults.Pod(p)
	defaults.PodAdmitted(p)
	return p
}

func TestPod(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(p *corev1.Pod)
		want   []string
	}{
		{"valid", func(p *corev1.Pod) {}, nil},
		{"name", func(p *corev1.Pod) { p.Name = "Web_1" }, []string{"metadata.name: Invalid value"}},
		{"no namespace", func(p *corev1.Pod) { p.Namespace = "" }, []string{"metadata.namespace: Required value"}},
		{"bad label", func(p *corev1.Pod) { p.Labels["app"] = "-x" }, []string{"metadata.labels: Invalid value"}},
		{"no containers", func(p *corev1.Pod) { p.Spec.Containers = nil }, []string{"spec.containers: Required value"}},
		{"no image", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "" }, []string{"spec.containers[0].image: Required value"}},
		{"image whitespace", func(p *corev1.Pod) { p.Spec.Containers[0].Image = " nginx" }, []string{"spec.containers[0].image: Invalid value"}},
		{"no container name", func(p *corev1.Pod) { p.Spec.Containers[0].Name = "" }, []string{"spec.containers[0].name: Required value"}},
		{"container name not a label", func(p *corev1.Pod) { p.Spec.Containers[0].Name = "Web" }, []string{"spec.containers[0].name: Invalid value"}},
		{"duplicate app container", func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, *p.Spec.Containers[0].DeepCopy())
		}, []string{"spec.containers[1].name: Duplicate value"}},
		{"init container clashes with app container", func(p *corev1.Pod) {
			c := p.Spec.Containers[0].DeepCopy()
			c.Ports = nil
			p.Spec.InitContainers = []corev1.Container{*c}
		}, []string{"spec.initContainers[0].name: Duplicate value"}},
		{"pull policy", func(p *corev1.Pod) { p.Spec.Containers[0].ImagePullPolicy = "Sometimes" }, []string{"spec.containers[0].imagePullPolicy: Unsupported value"}},
		{"termination message policy", func(p *corev1.Pod) { p.Spec.Containers[0].TerminationMessagePolicy = "Logs" }, []string{"spec.containers[0].terminationMessagePolicy: Invalid value"}},
		{"restartPolicy", func(p *corev1.Pod) { p.Spec.RestartPolicy = "Sometimes" }, []string{"spec.restartPolicy: Unsupported value"}},
		{"dnsPolicy", func(p *corev1.Pod) { p.Spec.DNSPolicy = "Google" }, []string{"spec.dnsPolicy: Unsupported value"}},
		{"dnsPolicy None without dnsConfig", func(p *corev1.Pod) { p.Spec.DNSPolicy = corev1.DNSNone }, []string{"spec.dnsConfig: Required value"}},
		{"dnsPolicy None without nameservers", func(p *corev1.Pod) {
			p.Spec.DNSPolicy = corev1.DNSNone
			p.Spec.DNSConfig = &corev1.PodDNSConfig{Searches: []string{"svc.cluster.local"}}
		}, []string{"spec.dnsConfig.nameservers: Required value"}},
		{"dnsConfig", func(p *corev1.Pod) {
			p.Spec.DNSPolicy = corev1.DNSNone
			p.Spec.DNSConfig = &corev1.PodDNSConfig{Nameservers: []string{"10.0.0.10", "dns"}, Searches: []string{"_tcp.example.com", ".", "bad domain"},
				Options: []corev1.PodDNSConfigOption{{Value: ptrTo("2")}}}
		}, []string{"spec.dnsConfig.nameservers[1]: Invalid value", "spec.dnsConfig.searches[2]: Invalid value", "spec.dnsConfig.options[0].name: Required value"}},
		{"nodeName", func(p *corev1.Pod) { p.Spec.NodeName = "Node_1" }, []string{"spec.nodeName: Invalid value"}},
		{"serviceAccountName", func(p *corev1.Pod) { p.Spec.ServiceAccountName = "a b" }, []string{"spec.serviceAccountName: Invalid value"}},
		{"hostname", func(p *corev1.Pod) { p.Spec.Hostname = "a.b" }, []string{"spec.hostname: Invalid value"}},
		{"grace period", func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = ptrTo(int64(-1)) }, []string{"spec.terminationGracePeriodSeconds: Invalid value"}},
		{"active deadline", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptrTo(int64(0)) }, []string{"spec.activeDeadlineSeconds: Invalid value"}},
		{"nodeSelector", func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"a/b/c": "x"} }, []string{"spec.nodeSelector: Invalid value"}},
		{"ephemeral containers on create", func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
				Name: "debug", Image: "busybox", ImagePullPolicy: corev1.PullIfNotPresent, TerminationMessagePolicy: corev1.TerminationMessageReadFile}}}
		}, []string{"spec.ephemeralContainers: Forbidden"}},
		{"preemptionPolicy", func(p *corev1.Pod) { p.Spec.PreemptionPolicy = ptrTo(corev1.PreemptionPolicy("Always")) }, []string{"spec.preemptionPolicy: Unsupported value"}},
		{"scheduling gates with nodeName", func(p *corev1.Pod) {
			p.Spec.NodeName = "node-1"
			p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/wait"}, {Name: "example.com/wait"}}
		}, []string{"spec.nodeName: Forbidden", "spec.schedulingGates[1]: Duplicate value"}},
		{"topology spread", func(p *corev1.Pod) {
			p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{MaxSkew: 0, WhenUnsatisfiable: "Maybe"}}
		}, []string{"spec.topologySpreadConstraints[0].maxSkew: Invalid value", "spec.topologySpreadConstraints[0].topologyKey: Required value",
			"spec.topologySpreadConstraints[0].whenUnsatisfiable: Unsupported value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPod()
			tt.mutate(p)
			assertErrors(t, Pod(p), tt.want)
		})
	}
}

func TestPodContainerPorts(t *testing.T) {
	tests := []struct {
		name        string
		ports       []corev1.ContainerPort
		hostNetwork bool
		want        []string
	}{
		{"valid", []corev1.ContainerPort{{Name: "http", ContainerPort: 80, Protocol: "TCP"}, {Name: "dns", ContainerPort: 53, Protocol: "UDP"}}, false, nil},
		{"port missing", []corev1.ContainerPort{{Protocol: "TCP"}}, false, []string{"spec.containers[0].ports[0].containerPort: Required value"}},
		{"port out of range", []corev1.ContainerPort{{ContainerPort: 70000, Protocol: "TCP"}}, false, []string{"spec.containers[0].ports[0].containerPort: Invalid value"}},
		{"host port out of range", []corev1.ContainerPort{{ContainerPort: 80, HostPort: -1, Protocol: "TCP"}}, false, []string{"spec.containers[0].ports[0].hostPort: Invalid value"}},
		{"protocol", []corev1.ContainerPort{{ContainerPort: 80, Protocol: "HTTP"}}, false, []string{"spec.containers[0].ports[0].protocol: Unsupported value"}},
		{"protocol missing", []corev1.ContainerPort{{ContainerPort: 80}}, false, []string{"spec.containers[0].ports[0].protocol: Required value"}},
		{"name not IANA_SVC_NAME", []corev1.ContainerPort{{Name: "http-web-server-1", ContainerPort: 80, Protocol: "TCP"}}, false, []string{"spec.containers[0].ports[0].name: Invalid value"}},
		{"duplicate name", []corev1.ContainerPort{{Name: "http", ContainerPort: 80, Protocol: "TCP"}, {Name: "http", ContainerPort: 81, Protocol: "TCP"}}, false,
			[]string{"spec.containers[0].ports[1].name: Duplicate value"}},
		{"duplicate host port", []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080, Protocol: "TCP"}, {ContainerPort: 81, HostPort: 8080, Protocol: "TCP"}}, false,
			[]string{"spec.containers[0].ports[1].hostPort: Duplicate value"}},
		{"hostNetwork port match", []corev1.ContainerPort{{ContainerPort: 80, HostPort: 80, Protocol: "TCP"}}, true, nil},
		{"hostNetwork port mismatch", []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080, Protocol: "TCP"}}, true,
			[]string{"spec.containers[0].ports[0].containerPort: Invalid value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPod()
			p.Spec.HostNetwork = tt.hostNetwork
			p.Spec.Containers[0].Ports = tt.ports
			assertErrors(t, Pod(p), tt.want)
		})
	}
}

func TestPodEnv(t *testing.T) {
	fieldRef := func(path string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path}}
	}
	tests := []struct {
		name string
		env  corev1.EnvVar
		want []string
	}{
		{"plain", corev1.EnvVar{Name: "A", Value: "1"}, nil},
		{"relaxed name", corev1.EnvVar{Name: "1-weird.name:ok", Value: "1"}, nil},
		{"no name", corev1.EnvVar{Value: "1"}, []string{"spec.containers[0].env[0].name: Required value"}},
		{"equals in name", corev1.EnvVar{Name: "A=B"}, []string{"spec.containers[0].env[0].name: Invalid value"}},
		{"fieldRef", corev1.EnvVar{Name: "POD", ValueFrom: fieldRef("metadata.name")}, nil},
		{"fieldRef label subscript", corev1.EnvVar{Name: "APP", ValueFrom: fieldRef("metadata.labels['app']")}, nil},
		{"fieldRef unsupported", corev1.EnvVar{Name: "X", ValueFrom: fieldRef("spec.containers")},
			[]string{"spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value"}},
		{"empty valueFrom", corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{}}, []string{"spec.containers[0].env[0].valueFrom: Invalid value"}},
		{"two sources", corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{
			FieldRef:        &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"},
			ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}, Key: "k"},
		}}, []string{"spec.containers[0].env[0].valueFrom: Invalid value"}},
		{"value and valueFrom", corev1.EnvVar{Name: "X", Value: "v", ValueFrom: fieldRef("metadata.name")}, []string{"spec.containers[0].env[0].valueFrom: Invalid value"}},
		{"secretKeyRef", corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Key: "bad key"}}},
			[]string{"spec.containers[0].env[0].valueFrom.secretKeyRef.name: Required value", "spec.containers[0].env[0].valueFrom.secretKeyRef.key: Invalid value"}},
		{"resourceFieldRef", corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.gpu"}}},
			[]string{"spec.containers[0].env[0].valueFrom.resourceFieldRef.resource: Unsupported value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPod()
			p.Spec.Containers[0].Env = []corev1.EnvVar{tt.env}
			assertErrors(t, Pod(p), tt.want)
		})
	}
}

func TestPodVolumes(t *testing.T) {
	tests := []struct {
		name    string
		volumes []corev1.Volume
		mounts  []corev1.VolumeMount
		want    []string
	}{
		{"configMap and secret", []corev1.Volume{
			{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}}}},
			{Name: "sec", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s", Items: []corev1.KeyToPath{{Key: "k", Path: "sub/k"}}}}},
		}, []corev1.VolumeMount{{Name: "cfg", MountPath: "/cfg"}, {Name: "sec", MountPath: "/sec", ReadOnly: true}}, nil},
		{"no source", []corev1.Volume{{Name: "v"}}, nil, []string{"spec.volumes[0]: Required value"}},
		{"two sources", []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{
			EmptyDir: &corev1.EmptyDirVolumeSource{}, HostPath: &corev1.HostPathVolumeSource{Path: "/x"}}}},
			nil, []string{"spec.volumes[0].emptyDir: Forbidden"}},
		{"duplicate name", []corev1.Volume{
			{Name: "v", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			{Name: "v", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		}, nil, []string{"spec.volumes[1].name: Duplicate value"}},
		{"name not a label", []corev1.Volume{{Name: "V", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			nil, []string{"spec.volumes[0].name: Invalid value"}},
		{"secret needs a name", []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{DefaultMode: ptrTo(int32(01000))}}}},
			nil, []string{"spec.volumes[0].secret.secretName: Required value", "spec.volumes[0].secret.defaultMode: Invalid value"}},
		{"item path escapes", []corev1.Volume{{Name: "c", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "c"}, Items: []corev1.KeyToPath{{Key: "k", Path: "../k"}, {Key: "k", Path: "/k"}}}}}},
			nil, []string{"spec.volumes[0].configMap.items[0].path: Invalid value", "spec.volumes[0].configMap.items[1].path: Invalid value"}},
		{"hostPath type", []corev1.Volume{{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/x", Type: ptrTo(corev1.HostPathType("Dir"))}}}},
			nil, []string{"spec.volumes[0].hostPath.type: Unsupported value"}},
		{"pvc", []corev1.Volume{{Name: "p", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{}}}},
			nil, []string{"spec.volumes[0].persistentVolumeClaim.claimName: Required value"}},
		{"nfs relative path", []corev1.Volume{{Name: "n", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs", Path: "export"}}}},
			nil, []string{"spec.volumes[0].nfs.path: Invalid value"}},
		{"projected token too short", []corev1.Volume{{Name: "t", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptrTo(int64(60))}}}}}}},
			nil, []string{"spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds: Invalid value"}},
		{"mount of unknown volume", []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			[]corev1.VolumeMount{{Name: "w", MountPath: "/w"}}, []string{"spec.containers[0].volumeMounts[0].name: Not found"}},
		{"mount of invalid volume", []corev1.Volume{{Name: "v"}},
			[]corev1.VolumeMount{{Name: "v", MountPath: "/w"}}, []string{"spec.volumes[0]: Required value", "spec.containers[0].volumeMounts[0].name: Not found"}},
		{"mount paths", []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			[]corev1.VolumeMount{{Name: "v"}, {Name: "v", MountPath: "/a"}, {Name: "v", MountPath: "/a", SubPath: "../x"}},
			[]string{"spec.containers[0].volumeMounts[0].mountPath: Required value", "spec.containers[0].volumeMounts[2].mountPath: Invalid value",
				"spec.containers[0].volumeMounts[2].subPath: Invalid value"}},
		{"bidirectional needs privilege", []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			[]corev1.VolumeMount{{Name: "v", MountPath: "/a", MountPropagation: ptrTo(corev1.MountPropagationBidirectional)}},
			[]string{"spec.containers[0].volumeMounts[0].mountPropagation: Forbidden"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPod()
			p.Spec.Volumes = tt.volumes // not defaulted: a sourceless volume would become an emptyDir
			p.Spec.Containers[0].VolumeMounts = tt.mounts
			assertErrors(t, Pod(p), tt.want)
		})
	}
}

func TestPodResources(t *testing.T) {
	q := resource.MustParse
	tests := []struct {
		name string
		res  corev1.ResourceRequirements
		want []string
	}{
		{"request below limit", corev1.ResourceRequirements{Requests: corev1.ResourceList{"cpu": q("500m")}, Limits: corev1.ResourceList{"cpu": q("1")}}, nil},
		{"request above limit", corev1.ResourceRequirements{Requests: corev1.ResourceList{"cpu": q("2")}, Limits: corev1.ResourceList{"cpu": q("1")}},
			[]string{"spec.containers[0].resources.requests: Invalid value"}},
		{"negative", corev1.ResourceRequirements{Limits: corev1.ResourceList{"memory": q("-1Mi")}},
			[]string{"spec.containers[0].resources.limits[memory]: Invalid value"}},
		{"unknown standard resource", corev1.ResourceRequirements{Limits: corev1.ResourceList{"gpu": q("1")}},
			[]string{"spec.containers[0].resources.limits[gpu]: Invalid value"}},
		{"extended resource", corev1.ResourceRequirements{Requests: corev1.ResourceList{"example.com/gpu": q("1")}, Limits: corev1.ResourceList{"example.com/gpu": q("1")}}, nil},
		{"extended resource without limit", corev1.ResourceRequirements{Requests: corev1.ResourceList{"example.com/gpu": q("1")}},
			[]string{"spec.containers[0].resources.limits: Required value"}},
		{"extended resource overcommitted", corev1.ResourceRequirements{Requests: corev1.ResourceList{"example.com/gpu": q("1")}, Limits: corev1.ResourceList{"example.com/gpu": q("2")}},
			[]string{"spec.containers[0].resources.requests: Invalid value"}},
		{"extended resource fraction", corev1.ResourceRequirements{Requests: corev1.ResourceList{"example.com/gpu": q("500m")}, Limits: corev1.ResourceList{"example.com/gpu": q("500m")}},
			[]string{"spec.containers[0].resources.limits[example.com/gpu]: Invalid value", "spec.containers[0].resources.requests[example.com/gpu]: Invalid value"}},
		{"hugepages alone", corev1.ResourceRequirements{Requests: corev1.ResourceList{"hugepages-2Mi": q("2Mi")}, Limits: corev1.ResourceList{"hugepages-2Mi": q("2Mi")}},
			[]string{"spec.containers[0].resources: Forbidden"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPod()
			p.Spec.Containers[0].Resources = tt.res
			assertErrors(t, Pod(p), tt.want)
		})
	}
}

func TestPodProbes(t *testing.T) {
	httpProbe := func() *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:   corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromString("http"), Scheme: corev1.URISchemeHTTP}},
			TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3,
		}
	}
	tests := []struct {
		name   string
		mutate func(c *corev1.Container)
		want   []string
	}{
		{"valid", func(c *corev1.Container) {
			c.LivenessProbe, c.ReadinessProbe, c.StartupProbe = httpProbe(), httpProbe(), httpProbe()
		}, nil},
		{"no handler", func(c *corev1.Container) {
			c.LivenessProbe = httpProbe()
			c.LivenessProbe.HTTPGet = nil
		}, []string{"spec.containers[0].livenessProbe: Required value"}},
		{"two handlers", func(c *corev1.Container) {
			c.ReadinessProbe = httpProbe()
			c.ReadinessProbe.Exec = &corev1.ExecAction{Command: []string{"true"}}
		}, []string{"spec.containers[0].readinessProbe.httpGet: Forbidden"}},
		{"liveness success threshold", func(c *corev1.Container) {
			c.LivenessProbe = httpProbe()
			c.LivenessProbe.SuccessThreshold = 2
		}, []string{"spec.containers[0].livenessProbe.successThreshold: Invalid value"}},
		{"readiness grace period", func(c *corev1.Container) {
			c.ReadinessProbe = httpProbe()
			c.ReadinessProbe.TerminationGracePeriodSeconds = ptrTo(int64(5))
		}, []string{"spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value"}},
		{"negative period", func(c *corev1.Container) {
			c.StartupProbe = httpProbe()
			c.StartupProbe.PeriodSeconds = -1
		}, []string{"spec.containers[0].startupProbe.periodSeconds: Invalid value"}},
		{"bad port and scheme", func(c *corev1.Container) {
			c.LivenessProbe = httpProbe()
			c.LivenessProbe.HTTPGet.Port = intstr.FromInt32(0)
			c.LivenessProbe.HTTPGet.Scheme = "FTP"
		}, []string{"spec.containers[0].livenessProbe.httpGet.port: Invalid value", "spec.containers[0].livenessProbe.httpGet.scheme: Unsupported value"}},
		{"exec without command", func(c *corev1.Container) {
			c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{}}}
		}, []string{"spec.containers[0].lifecycle.preStop.exec.command: Required value"}},
		{"grpc port", func(c *corev1.Container) {
			c.LivenessProbe = httpProbe()
			c.LivenessProbe.HTTPGet = nil
			c.LivenessProbe.GRPC = &corev1.GRPCAction{Port: 0}
		}, []string{"spec.containers[0].livenessProbe.grpc.port: Invalid value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPod()
			tt.mutate(&p.Spec.Containers[0])
			assertErrors(t, Pod(p), tt.want)
		})
	}
}

func TestPodInitContainers(t *testing.T) {
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)}},
		TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3}
	always := ptrTo(corev1.ContainerRestartPolicyAlways)
	tests := []struct {
		name   string
		mutate func(c *corev1.Container)
		want   []string
	}{
		{"plain", func(c *corev1.Container) {}, nil},
		{"probe on init container", func(c *corev1.Container) { c.ReadinessProbe = probe }, []string{"spec.initContainers[0].readinessProbe: Forbidden"}},
		{"sidecar with probes", func(c *corev1.Container) { c.RestartPolicy, c.ReadinessProbe, c.LivenessProbe = always, probe, probe }, nil},
		{"restartPolicy Never", func(c *corev1.Container) { c.RestartPolicy = ptrTo(corev1.ContainerRestartPolicy("Never")) },
			[]string{"spec.initContainers[0].restartPolicy: Unsupported value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPod()
			p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox"}}
			defaults.Pod(p)
			defaults.PodAdmitted(p)
			tt.mutate(&p.Spec.InitContainers[0])
			assertErrors(t, Pod(p), tt.want)
		})
	}
	t.Run("restartPolicy on app container", func(t *testing.T) {
		p := validPod()
		p.Spec.Containers[0].RestartPolicy = always
		assertErrors(t, Pod(p), []string{"spec.containers[0].restartPolicy: Forbidden"})
	})
}

func TestPodSecurity(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(p *corev1.Pod)
		want   []string
	}{
		{"pod ids", func(p *corev1.Pod) {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: ptrTo(int64(-1)), FSGroup: ptrTo(int64(-2)), SupplementalGroups: []int64{1, -3}}
		}, []string{"spec.securityContext.runAsUser: Invalid value", "spec.securityContext.fsGroup: Invalid value", "spec.securityContext.supplementalGroups[1]: Invalid value"}},
		{"sysctls", func(p *corev1.Pod) {
			p.Spec.SecurityContext.Sysctls = []corev1.Sysctl{{Name: "net.core.somaxconn"}, {Name: "net.core.somaxconn"}, {Name: "Net..x"}, {}}
		}, []string{"spec.securityContext.sysctls[1].name: Duplicate value", "spec.securityContext.sysctls[2].name: Invalid value", "spec.securityContext.sysctls[3].name: Required value"}},
		{"seccomp localhost without profile", func(p *corev1.Pod) {
			p.Spec.SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost}
		}, []string{"spec.securityContext.seccompProfile.localhostProfile: Required value"}},
		{"privileged without escalation", func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptrTo(true), AllowPrivilegeEscalation: ptrTo(false)}
		}, []string{"spec.containers[0].securityContext: Invalid value"}},
		{"container runAsGroup", func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsGroup: ptrTo(int64(-1)), ProcMount: ptrTo(corev1.ProcMountType("Masked"))}
		}, []string{"spec.containers[0].securityContext.runAsGroup: Invalid value", "spec.containers[0].securityContext.procMount: Unsupported value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPod()
			tt.mutate(p)
			assertErrors(t, Pod(p), tt.want)
		})
	}
}

func TestPodTolerations(t *testing.T) {
	tests := []struct {
		name string
		tol  corev1.Toleration
		want []string
	}{
		{"exists", corev1.Toleration{Key: "example.com/gpu", Operator: corev1.TolerationOpExists}, nil},
		{"match all", corev1.Toleration{Operator: corev1.TolerationOpExists}, nil},
		{"empty key needs Exists", corev1.Toleration{Operator: corev1.TolerationOpEqual}, []string{"spec.tolerations[0].operator: Invalid value"}},
		{"seconds need NoExecute", corev1.Toleration{Key: "k", Effect: corev1.TaintEffectNoSchedule, TolerationSeconds: ptrTo(int64(1))},
			[]string{"spec.tolerations[0].effect: Invalid value"}},
		{"Exists with value", corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists, Value: "v"}, []string{"spec.tolerations[0].operator: Invalid value"}},
		{"unknown operator", corev1.Toleration{Key: "k", Operator: "In"}, []string{"spec.tolerations[0].operator: Unsupported value"}},
		{"unknown effect", corev1.Toleration{Key: "k", Effect: "NoRun"}, []string{"spec.tolerations[0].effect: Unsupported value"}},
		{"bad key", corev1.Toleration{Key: "a b", Operator: corev1.TolerationOpExists}, []string{"spec.tolerations[0].key: Invalid value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPod()
			p.Spec.Tolerations = []corev1.Toleration{tt.tol}
			assertErrors(t, Pod(p), tt.want)
		})
	}
}

// TestPodWithoutDefaults shows why callers must default first: the fields
// defaulting fills are required.
func TestPodWithoutDefaults(t *testing.T) {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
	}
	assertErrors(t, Pod(p), []string{
		"spec.containers[0].imagePullPolicy: Required value",
		"spec.containers[0].terminationMessagePolicy: Required value",
		"spec.dnsPolicy: Required value",
		"spec.restartPolicy: Required value",
	})
	defaults.Pod(p)
	defaults.PodAdmitted(p)
	assertErrors(t, Pod(p), nil)
}
