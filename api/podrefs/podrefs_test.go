package podrefs

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func withVolume(src corev1.VolumeSource) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "v", VolumeSource: src}}}}
}

func TestOf(t *testing.T) {
	local := func(n string) *corev1.LocalObjectReference { return &corev1.LocalObjectReference{Name: n} }
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.PodSpec{
		ServiceAccountName: "sa",
		ImagePullSecrets:   []corev1.LocalObjectReference{{Name: "pull"}},
		InitContainers: []corev1.Container{{EnvFrom: []corev1.EnvFromSource{
			{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: *local("init-env")}}}}},
		Containers: []corev1.Container{{Env: []corev1.EnvVar{
			{Name: "a", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: *local("cm-env")}}}}}},
		EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
			Env: []corev1.EnvVar{{Name: "b", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: *local("debug-env")}}}}}}},
		Volumes: []corev1.Volume{
			{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "vol"}}},
			{Name: "c", VolumeSource: corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "d", NodePublishSecretRef: local("csi")}}},
			{Name: "pr", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{Secret: &corev1.SecretProjection{LocalObjectReference: *local("proj")}},
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: *local("cm-proj")}}}}}},
			{Name: "claim", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}},
			{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}},
		},
	}}
	r := Of(p)
	check := func(res string, want ...string) {
		t.Helper()
		if got := r.Names(res); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", res, got, want)
		}
	}
	check("secrets", "pull", "init-env", "debug-env", "vol", "csi", "proj")
	check("configmaps", "cm-env", "cm-proj")
	check("persistentvolumeclaims", "data", "web-scratch")
	check("serviceaccounts", "sa")
}

func TestAPIObjectReference(t *testing.T) {
	cases := []struct {
		name    string
		pod     *corev1.Pod
		want    string
		wantErr string
	}{
		{"nothing", withVolume(corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}), "", ""},
		{"host path", withVolume(corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/x"}}), "", ""},
		{"service account", &corev1.Pod{Spec: corev1.PodSpec{ServiceAccountName: "default"}}, "serviceaccounts", ""},
		{"secret volume", withVolume(corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}), "secrets", ""},
		{"configmap volume", withVolume(corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}), "configmaps", ""},
		{"claim", withVolume(corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "c"}}),
			"persistentvolumeclaims", ""},
		{"ephemeral", withVolume(corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}), "persistentvolumeclaims (via ephemeral volumes)", ""},
		{"csi", withVolume(corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "d"}}), "csidrivers (via CSI volumes)", ""},
		{"token projection", withVolume(corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{DownwardAPI: &corev1.DownwardAPIProjection{}}, {ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "t"}}}}}),
			"serviceaccounts (via projected volumes)", ""},
		{"trust bundle", withVolume(corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ClusterTrustBundle: &corev1.ClusterTrustBundleProjection{Path: "b"}}}}}), "clustertrustbundles", ""},
		{"resource claim", &corev1.Pod{Spec: corev1.PodSpec{ResourceClaims: []corev1.PodResourceClaim{{Name: "gpu"}}}}, "resourceclaims", ""},
		{"no volume type", withVolume(corev1.VolumeSource{}), "", `unknown volume type for volume  "v"`},
		{"empty projection", withVolume(corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{}}}}),
			"", `unknown source for projected volume "v"`},
	}
	for _, c := range cases {
		got, err := APIObjectReference(c.pod)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if got != c.want || gotErr != c.wantErr {
			t.Errorf("%s: got %q, %q; want %q, %q", c.name, got, gotErr, c.want, c.wantErr)
		}
	}
}
