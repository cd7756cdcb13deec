package revision

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestDataRoundTripsAndHashes(t *testing.T) {
	tmpl := &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img:v1"}}}}
	data, err := Data(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"$patch":"replace"`) || !strings.HasPrefix(string(data), `{"spec":{"template":`) {
		t.Errorf("data %s", data)
	}
	back, err := Template(data)
	if err != nil || back.Spec.Containers[0].Image != "img:v1" || back.Labels["app"] != "web" {
		t.Errorf("template %+v, %v", back, err)
	}
	if !Same(data, []byte(` {"spec": {"template": `+string(data)[len(`{"spec":{"template":`):])) {
		t.Error("re-spaced data differs")
	}
	other := tmpl.DeepCopy()
	other.Spec.Containers[0].Image = "img:v2"
	otherData, _ := Data(other)
	if Same(data, otherData) {
		t.Error("different templates compare equal")
	}
	one := int32(1)
	if Hash(tmpl, nil) == Hash(other, nil) || Hash(tmpl, nil) == Hash(tmpl, &one) || Hash(tmpl, nil) != Hash(tmpl.DeepCopy(), nil) {
		t.Error("hashes do not tell templates and collision counts apart, or are not stable")
	}
	if _, err := Template([]byte(`{"spec":{}}`)); err == nil {
		t.Error("data without a template was accepted")
	}
}
