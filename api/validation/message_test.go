package validation

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// TestInvalidStatusMessages checks the text of the 422 Status the caller
// builds with apierrors.NewInvalid. kubectl prints it prefixed with "The ".
func TestInvalidStatusMessages(t *testing.T) {
	tests := []struct {
		name string
		kind string
		obj  string
		errs func() field.ErrorList
		want string
	}{{
		name: "missing image",
		kind: "Pod", obj: "web",
		errs: func() field.ErrorList {
			p := validPod()
			p.Spec.Containers[0].Image = ""
			return Pod(p)
		},
		want: `Pod "web" is invalid: spec.containers[0].image: Required value`,
	}, {
		name: "two errors",
		kind: "Pod", obj: "web",
		errs: func() field.ErrorList {
			p := validPod()
			p.Spec.Containers[0].Image = ""
			p.Spec.RestartPolicy = "Sometimes"
			return Pod(p)
		},
		want: `Pod "web" is invalid: [spec.containers[0].image: Required value, ` +
			`spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"]`,
	}, {
		name: "pod name",
		kind: "Pod", obj: "Web",
		errs: func() field.ErrorList {
			p := validPod()
			p.Name = "Web"
			return Pod(p)
		},
		want: `Pod "Web" is invalid: metadata.name: Invalid value: "Web": a lowercase RFC 1123 subdomain must consist of lower case ` +
			`alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', ` +
			`regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
	}, {
		name: "missing volume",
		kind: "Pod", obj: "web",
		errs: func() field.ErrorList {
			p := validPod()
			p.Spec.Containers[0].VolumeMounts[0].Name = "cache"
			return Pod(p)
		},
		want: `Pod "web" is invalid: spec.containers[0].volumeMounts[0].name: Not found: "cache"`,
	}, {
		name: "request above limit",
		kind: "Pod", obj: "web",
		errs: func() field.ErrorList {
			p := validPod()
			p.Spec.Containers[0].Resources = corev1.ResourceRequirements{
				Limits:   corev1.ResourceList{"cpu": resource.MustParse("1")},
				Requests: corev1.ResourceList{"cpu": resource.MustParse("2")},
			}
			return Pod(p)
		},
		want: `Pod "web" is invalid: spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1`,
	}, {
		name: "nodePort on ClusterIP",
		kind: "Service", obj: "web",
		errs: func() field.ErrorList {
			s := validService()
			s.Spec.Ports[0].NodePort = 30080
			return Service(s)
		},
		want: "Service \"web\" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
	}, {
		name: "clusterIP change",
		kind: "Service", obj: "web",
		errs: func() field.ErrorList {
			old := validService()
			old.ResourceVersion = "1"
			old.Spec.ClusterIP, old.Spec.ClusterIPs = "10.96.0.10", []string{"10.96.0.10"}
			s := old.DeepCopy()
			s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.11", []string{"10.96.0.11"}
			return ServiceUpdate(s, old)
		},
		want: `Service "web" is invalid: spec.clusterIPs[0]: Invalid value: ["10.96.0.11"]: may not change once set`,
	}, {
		name: "config map key",
		kind: "ConfigMap", obj: "cfg",
		errs: func() field.ErrorList {
			return ConfigMap(&corev1.ConfigMap{ObjectMeta: meta("cfg", "ns"), Data: map[string]string{"bad key": "x"}})
		},
		want: `ConfigMap "cfg" is invalid: data[bad key]: Invalid value: "bad key": a valid config key must consist of ` +
			`alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', ` +
			`regex used for validation is '[-._a-zA-Z0-9]+')`,
	}, {
		name: "docker config json",
		kind: "Secret", obj: "reg",
		errs: func() field.ErrorList {
			return Secret(&corev1.Secret{ObjectMeta: meta("reg", "ns"), Type: corev1.SecretTypeDockerConfigJson})
		},
		want: `Secret "reg" is invalid: data[.dockerconfigjson]: Required value`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := apierrors.NewInvalid(schema.GroupKind{Kind: tt.kind}, tt.obj, tt.errs()).Error()
			if got != tt.want {
				t.Errorf("message\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}
