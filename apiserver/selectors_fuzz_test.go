package apiserver

import (
	"net/http/httptest"
	"net/url"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FuzzSelectors: any labelSelector and fieldSelector on pods parse into a
// selection that matches without a panic, or fail as a 400.
func FuzzSelectors(f *testing.F) {
	for _, s := range [][2]string{{"app=web", "spec.nodeName=n1"}, {"app in (a,b),!x", "metadata.name!=y,status.phase=Running"},
		{"x notin (), y", "spec.bogus=1"}, {"a=b=c", "a==b"}, {",", `spec.nodeName=\,x`}} {
		f.Add(s[0], s[1])
	}
	reg := newRegistry(resources())
	pods, _ := reg.lookup("", "v1", "pods")
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Labels: map[string]string{"app": "web", "x": ""}},
		Spec: corev1.PodSpec{NodeName: "n1"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	f.Fuzz(func(t *testing.T, labelSel, fieldSel string) {
		q := url.Values{"labelSelector": {labelSel}, "fieldSelector": {fieldSel}}
		sel, err := parseSelection(httptest.NewRequest("GET", "/api/v1/pods?"+q.Encode(), nil), pods)
		if err != nil {
			if !apierrors.IsBadRequest(err) {
				t.Fatalf("%q %q: %v, want a 400", labelSel, fieldSel, err)
			}
			return
		}
		if m := sel.match(pods); m != nil {
			m(pod)
		}
		fieldSelectorName(httptest.NewRequest("GET", "/api/v1/pods?"+q.Encode(), nil))
	})
}
