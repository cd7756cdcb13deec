package admission

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/nodeagent/nodeagent/api/podrefs"
)

// accounts is a stateful fake: the accounts it holds, and how many
// lookups it saw.
type accounts struct {
	byName  map[string]*corev1.ServiceAccount
	lookups int
	// appear adds the default account after this many lookups (0: never).
	appear int
}

func (f *accounts) ServiceAccount(_ context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	f.lookups++
	if f.appear > 0 && f.lookups >= f.appear {
		f.byName[ns+"/"+DefaultServiceAccountName] = &corev1.ServiceAccount{}
	}
	if sa, ok := f.byName[ns+"/"+name]; ok {
		return sa, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "serviceaccounts"}, name)
}

func saPlugin(f *accounts, clk clock.Clock) ServiceAccount {
	return ServiceAccount{Accounts: f, Suffix: func() string { return "abcde" }, Clock: clk}
}

// instantClock is a fake clock whose timers fire at once, moving the
// clock on by their duration: the plugin's polls run without real time.
type instantClock struct{ *clocktesting.FakeClock }

func (c instantClock) NewTimer(d time.Duration) clock.Timer {
	t := c.FakeClock.NewTimer(d)
	c.Step(d)
	return t
}

func podWith(containers ...corev1.Container) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps"}, Spec: corev1.PodSpec{Containers: containers}}
}

func createPod(pod *corev1.Pod) Attributes {
	return Attributes{Operation: Create, Resource: podsResource, Namespace: "apps", Object: pod}
}

var tokenMount = corev1.VolumeMount{Name: "kube-api-access-abcde", ReadOnly: true, MountPath: DefaultAPITokenMountPath}

// A pod runs as "default" and gets the kube-api-access volume, as kube
// writes it, mounted read-only in every container and init container.
func TestServiceAccountInjectsTokenVolume(t *testing.T) {
	f := &accounts{byName: map[string]*corev1.ServiceAccount{"apps/default": {
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}}}}}
	pod := podWith(corev1.Container{Name: "a"}, corev1.Container{Name: "b"})
	pod.Spec.InitContainers = []corev1.Container{{Name: "init"}}
	if err := saPlugin(f, clocktesting.NewFakeClock(time.Now())).Admit(context.Background(), createPod(pod)); err != nil {
		t.Fatal(err)
	}
	if pod.Spec.ServiceAccountName != "default" || pod.Spec.DeprecatedServiceAccount != "default" {
		t.Errorf("service account %q/%q, want default", pod.Spec.ServiceAccountName, pod.Spec.DeprecatedServiceAccount)
	}
	for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
		if len(c.VolumeMounts) != 1 || !equality.Semantic.DeepEqual(c.VolumeMounts[0], tokenMount) {
			t.Errorf("container %s mounts %+v, want %+v", c.Name, c.VolumeMounts, tokenMount)
		}
	}
	if len(pod.Spec.Volumes) != 1 || pod.Spec.Volumes[0].Name != "kube-api-access-abcde" {
		t.Fatalf("volumes %+v", pod.Spec.Volumes)
	}
	src := pod.Spec.Volumes[0].Projected
	mode, exp := int32(0o644), int64(3607)
	want := &corev1.ProjectedVolumeSource{DefaultMode: &mode, Sources: []corev1.VolumeProjection{
		{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: &exp}},
		{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
			Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
		{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace",
			FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
	}}
	if !equality.Semantic.DeepEqual(src, want) {
		t.Errorf("projected source %+v, want %+v", src, want)
	}
	if len(pod.Spec.ImagePullSecrets) != 1 || pod.Spec.ImagePullSecrets[0].Name != "regcred" {
		t.Errorf("image pull secrets %+v, want the account's", pod.Spec.ImagePullSecrets)
	}
}

// automountServiceAccountToken false (the pod's, else the account's) means
// no volume; a container with its own mount at the path keeps it; a pod
// that already has a kube-api-access volume keeps that one.
func TestServiceAccountMountRules(t *testing.T) {
	no, yes := false, true
	tests := []struct {
		name       string
		account    *corev1.ServiceAccount
		pod        func(*corev1.Pod)
		wantVolume bool
	}{
		{"pod says no", &corev1.ServiceAccount{}, func(p *corev1.Pod) { p.Spec.AutomountServiceAccountToken = &no }, false},
		{"account says no", &corev1.ServiceAccount{AutomountServiceAccountToken: &no}, func(*corev1.Pod) {}, false},
		{"pod overrides account", &corev1.ServiceAccount{AutomountServiceAccountToken: &no},
			func(p *corev1.Pod) { p.Spec.AutomountServiceAccountToken = &yes }, true},
		{"own mount at the path", &corev1.ServiceAccount{}, func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "mine", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "mine", MountPath: DefaultAPITokenMountPath}}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &accounts{byName: map[string]*corev1.ServiceAccount{"apps/default": tt.account}}
			pod := podWith(corev1.Container{Name: "a"})
			tt.pod(pod)
			if err := saPlugin(f, clocktesting.NewFakeClock(time.Now())).Admit(context.Background(), createPod(pod)); err != nil {
				t.Fatal(err)
			}
			got := false
			for _, v := range pod.Spec.Volumes {
				got = got || strings.HasPrefix(v.Name, "kube-api-access-")
			}
			if got != tt.wantVolume {
				t.Errorf("token volume %v, want %v (volumes %+v)", got, tt.wantVolume, pod.Spec.Volumes)
			}
		})
	}

	f := &accounts{byName: map[string]*corev1.ServiceAccount{"apps/default": {}}}
	pod := podWith(corev1.Container{Name: "a"})
	pod.Spec.Volumes = []corev1.Volume{{Name: "kube-api-access-given", VolumeSource: corev1.VolumeSource{Projected: TokenVolumeSource()}}}
	if err := saPlugin(f, clocktesting.NewFakeClock(time.Now())).Admit(context.Background(), createPod(pod)); err != nil {
		t.Fatal(err)
	}
	if len(pod.Spec.Volumes) != 1 || pod.Spec.Containers[0].VolumeMounts[0].Name != "kube-api-access-given" {
		t.Errorf("existing token volume not reused: %+v %+v", pod.Spec.Volumes, pod.Spec.Containers[0].VolumeMounts)
	}
}

// A missing account is kube's 403; the default one is waited for a
// moment (the controller makes it with the namespace), a named one is not.
func TestServiceAccountMissing(t *testing.T) {
	clk := instantClock{clocktesting.NewFakeClock(time.Now())}

	f := &accounts{byName: map[string]*corev1.ServiceAccount{}}
	pod := podWith(corev1.Container{Name: "a"})
	pod.Spec.ServiceAccountName = "robot"
	err := saPlugin(f, clk).Admit(context.Background(), createPod(pod))
	want := `pods "web" is forbidden: error looking up service account apps/robot: serviceaccount "robot" not found`
	if !apierrors.IsForbidden(err) || err.Error() != want || f.lookups != 1 {
		t.Errorf("got %v after %d lookups, want %q after 1", err, f.lookups, want)
	}

	f = &accounts{byName: map[string]*corev1.ServiceAccount{}}
	err = saPlugin(f, clk).Admit(context.Background(), createPod(podWith(corev1.Container{Name: "a"})))
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `serviceaccount "default" not found`) || f.lookups < 2 {
		t.Errorf("got %v after %d lookups, want a 403 after several", err, f.lookups)
	}

	f = &accounts{byName: map[string]*corev1.ServiceAccount{}, appear: 3}
	pod = podWith(corev1.Container{Name: "a"})
	if err := saPlugin(f, clk).Admit(context.Background(), createPod(pod)); err != nil || len(pod.Spec.Volumes) != 1 {
		t.Errorf("default account made during the wait: %v, volumes %+v", err, pod.Spec.Volumes)
	}
}

// Mirror pods, updates and other resources are left as they are.
func TestServiceAccountSkips(t *testing.T) {
	f := &accounts{byName: map[string]*corev1.ServiceAccount{}}
	mirror := podWith(corev1.Container{Name: "a"})
	mirror.Annotations = map[string]string{podrefs.MirrorAnnotation: "x"}
	update := podWith(corev1.Container{Name: "a"})
	for _, a := range []Attributes{
		createPod(mirror),
		{Operation: Update, Resource: podsResource, Namespace: "apps", Object: update, Old: update.DeepCopy()},
		{Operation: Create, Resource: podsResource, Subresource: "binding", Namespace: "apps", Object: podWith()},
	} {
		before := a.Object.DeepCopyObject()
		if err := saPlugin(f, clocktesting.NewFakeClock(time.Now())).Admit(context.Background(), a); err != nil {
			t.Errorf("%s %s: %v", a.Operation, a.Subresource, err)
		}
		if !equality.Semantic.DeepEqual(before, a.Object) {
			t.Errorf("%s %s changed the pod", a.Operation, a.Subresource)
		}
	}
	if f.lookups != 0 {
		t.Errorf("%d lookups", f.lookups)
	}
}
