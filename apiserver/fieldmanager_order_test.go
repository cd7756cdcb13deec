package apiserver

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// As kube-apiserver records them: the creator of a pod owns what it sent
// and the API defaults, not what admission adds after (the service account
// and its kube-api-access volume and mount, priority, default tolerations).
func TestCreatorDoesNotOwnWhatAdmissionAdds(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	created, err := ts.admin(t).CoreV1().Pods("default").Create(bg, testPod("web"), metav1.CreateOptions{FieldManager: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if len(created.Spec.Volumes) != 1 || created.Spec.ServiceAccountName != "default" {
		t.Fatalf("admission did not run: %+v", created.Spec)
	}
	if len(created.ManagedFields) != 1 || created.ManagedFields[0].Manager != "alice" {
		t.Fatalf("managed fields: %+v", created.ManagedFields)
	}
	owned := string(created.ManagedFields[0].FieldsV1.Raw)
	for _, f := range []string{`"f:containers"`, `"f:restartPolicy"`, `"f:terminationMessagePath"`} {
		if !strings.Contains(owned, f) {
			t.Errorf("alice does not own %s: %s", f, owned)
		}
	}
	for _, f := range []string{`"f:volumes"`, `"f:volumeMounts"`, `"f:serviceAccountName"`, `"f:priority"`, `"f:tolerations"`} {
		if strings.Contains(owned, f) {
			t.Errorf("alice owns %s, which admission added: %s", f, owned)
		}
	}
}
