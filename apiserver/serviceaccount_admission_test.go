package apiserver

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A pod created through the API runs as its namespace's "default" account
// and gets the kube-api-access volume at kube's path (its token, the root
// CA, its namespace), which the node may then read (the root CA ConfigMap);
// a pod that names a missing account is refused with kube's 403; one that
// opts out gets no volume.
func TestServiceAccountAdmission(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	admin, n1 := ts.admin(t), ts.node(t, "n1")
	pod := testPod("web")
	pod.Spec.NodeName = "n1"
	created, err := admin.CoreV1().Pods("default").Create(bg, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if created.Spec.ServiceAccountName != "default" || len(created.Spec.Volumes) != 1 {
		t.Fatalf("account %q, volumes %+v", created.Spec.ServiceAccountName, created.Spec.Volumes)
	}
	v := created.Spec.Volumes[0]
	if !strings.HasPrefix(v.Name, "kube-api-access-") || len(v.Name) != len("kube-api-access-")+5 || v.Projected == nil || len(v.Projected.Sources) != 3 ||
		*v.Projected.Sources[0].ServiceAccountToken.ExpirationSeconds != 3607 || v.Projected.Sources[1].ConfigMap.Name != "kube-root-ca.crt" {
		t.Errorf("token volume %+v", v)
	}
	m := created.Spec.Containers[0].VolumeMounts
	if len(m) != 1 || m[0].Name != v.Name || m[0].MountPath != "/var/run/secrets/kubernetes.io/serviceaccount" || !m[0].ReadOnly {
		t.Errorf("mounts %+v", m)
	}
	if _, err := admin.CoreV1().ConfigMaps("default").Create(bg, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kube-root-ca.crt"},
		Data: map[string]string{"ca.crt": "x"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	if _, err := n1.CoreV1().ConfigMaps("default").Get(bg, "kube-root-ca.crt", metav1.GetOptions{}); err != nil {
		t.Errorf("node of the pod reads its root CA ConfigMap: %v", err)
	}

	robot := testPod("robot")
	robot.Spec.ServiceAccountName = "robot"
	_, err = admin.CoreV1().Pods("default").Create(bg, robot, metav1.CreateOptions{})
	want := `pods "robot" is forbidden: error looking up service account default/robot: serviceaccount "robot" not found`
	if !apierrors.IsForbidden(err) || err.Error() != want {
		t.Errorf("pod of a missing account: %v, want %s", err, want)
	}

	no := false
	quiet := testPod("quiet")
	quiet.Spec.AutomountServiceAccountToken = &no
	created, err = admin.CoreV1().Pods("default").Create(bg, quiet, metav1.CreateOptions{})
	if err != nil || len(created.Spec.Volumes) != 0 || len(created.Spec.Containers[0].VolumeMounts) != 0 {
		t.Errorf("automountServiceAccountToken false: %v, volumes %+v", err, created.Spec.Volumes)
	}
}
