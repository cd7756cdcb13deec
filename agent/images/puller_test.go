package images

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/nodeagent/nodeagent/cri"
	crifake "github.com/nodeagent/nodeagent/cri/fake"
)

// recordingService is the fake runtime, remembering each pull's credentials.
type recordingService struct {
	*crifake.Fake
	pulls []*cri.AuthConfig
}

func (s *recordingService) PullImage(ctx context.Context, ref string, auth *cri.AuthConfig) (string, error) {
	s.pulls = append(s.pulls, auth)
	return s.Fake.PullImage(ctx, ref, auth)
}

func pod(policy corev1.PullPolicy) (*corev1.Pod, corev1.Container) {
	c := corev1.Container{Name: "c", Image: "registry.example:5000/app:v1", ImagePullPolicy: policy}
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{c}}}, c
}

func newPuller(present bool) (*Puller, *recordingService, *testingclock.FakeClock, *record.FakeRecorder) {
	svc := &recordingService{Fake: crifake.New()}
	if present {
		svc.AddImage("registry.example:5000/app:v1")
	}
	clk := testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	rec := record.NewFakeRecorder(100)
	return New(svc, nil, rec, clk), svc, clk, rec
}

func reason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return ""
}

func TestEnsureImageFollowsThePullPolicy(t *testing.T) {
	cases := []struct {
		policy  corev1.PullPolicy
		present bool
		pulls   int
		reason  string
	}{
		{corev1.PullIfNotPresent, true, 0, ""},
		{corev1.PullIfNotPresent, false, 1, ""},
		{corev1.PullAlways, true, 1, ""},
		{corev1.PullNever, true, 0, ""},
		{corev1.PullNever, false, 0, ReasonErrImageNeverPull},
	}
	for _, c := range cases {
		p, svc, _, _ := newPuller(c.present)
		pd, spec := pod(c.policy)
		ref, err := p.EnsureImage(context.Background(), pd, spec)
		if len(svc.pulls) != c.pulls || reason(err) != c.reason {
			t.Errorf("%s, present %v: %d pulls, error %q; want %d, %q", c.policy, c.present, len(svc.pulls), reason(err), c.pulls, c.reason)
		}
		if err == nil && ref != spec.Image {
			t.Errorf("%s: ref %q", c.policy, ref)
		}
	}
}

// TestFailedPullsBackOff: ErrImagePull at each try, ImagePullBackOff with
// the time left in between, no pull tried while backing off.
func TestFailedPullsBackOff(t *testing.T) {
	p, svc, clk, rec := newPuller(false)
	pd, spec := pod(corev1.PullIfNotPresent)
	svc.FailNextPull(spec.Image, errors.New("registry says no"))
	svc.FailNextPull(spec.Image, errors.New("registry says no"))
	ctx := context.Background()
	steps := []struct {
		after  time.Duration
		reason string
		retry  time.Duration
	}{
		{0, ReasonErrImagePull, 0},
		{4 * time.Second, ReasonImagePullBackOff, 6 * time.Second},
		{6 * time.Second, ReasonErrImagePull, 0},
		{19 * time.Second, ReasonImagePullBackOff, time.Second},
		{time.Second, "", 0},
	}
	for i, s := range steps {
		clk.Step(s.after)
		_, err := p.EnsureImage(ctx, pd, spec)
		var e *Error
		errors.As(err, &e)
		if reason(err) != s.reason || e != nil && e.RetryAfter != s.retry {
			t.Fatalf("step %d: %v, want %s retry %s", i, err, s.reason, s.retry)
		}
	}
	if len(svc.pulls) != 3 {
		t.Fatalf("%d pulls, want 3 (none during the back-off)", len(svc.pulls))
	}
	events := strings.Join(drain(rec), "\n")
	for _, want := range []string{"Normal Pulling", "Warning Failed Failed to pull image", "Normal BackOff Back-off pulling image", "Normal Pulled Successfully pulled image"} {
		if !strings.Contains(events, want) {
			t.Errorf("no %q event in\n%s", want, events)
		}
	}
}

func TestPullUsesThePodsPullSecretForTheRegistry(t *testing.T) {
	p, svc, _, _ := newPuller(false)
	auth := base64.StdEncoding.EncodeToString([]byte("bob:s3cret"))
	secrets := map[string]*corev1.Secret{
		"other": {Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{
			corev1.DockerConfigJsonKey: []byte(`{"auths":{"elsewhere.example":{"username":"x","password":"y"}}}`)}},
		"opaque": {Type: corev1.SecretTypeOpaque},
		"mine": {Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{
			corev1.DockerConfigJsonKey: []byte(`{"auths":{"https://registry.example:5000/":{"auth":"` + auth + `"}}}`)}},
	}
	p.secrets = func(_ context.Context, ns, name string) (*corev1.Secret, error) {
		if s, ok := secrets[name]; ok && ns == "ns" {
			return s, nil
		}
		return nil, fmt.Errorf("secret %s/%s not found", ns, name)
	}
	pd, spec := pod(corev1.PullAlways)
	pd.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "missing"}, {Name: "opaque"}, {Name: "other"}, {Name: "mine"}}
	if _, err := p.EnsureImage(context.Background(), pd, spec); err != nil {
		t.Fatal(err)
	}
	if got := svc.pulls[0]; got == nil || got.Username != "bob" || got.Password != "s3cret" {
		t.Fatalf("credentials %+v, want bob's", got)
	}
}

func TestRegistryHost(t *testing.T) {
	for image, want := range map[string]string{
		"nginx": "docker.io", "library/nginx": "docker.io", "localhost/app": "localhost",
		"127.0.0.1:5000/nodeagent/testserver:v1": "127.0.0.1:5000", "quay.io/x/y": "quay.io",
	} {
		if got := registryHost(image); got != want {
			t.Errorf("%s: %s, want %s", image, got, want)
		}
	}
}

func drain(r *record.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-r.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}
