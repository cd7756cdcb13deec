package agent

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodeagent/nodeagent/cri"
)

// imagePullBackoff is how long a failed pull is not retried.
const imagePullBackoff = 10 * time.Second

// errPullBackoff says a pull waits for its back-off: the pod is synced
// again when it ends, without counting as a failure.
var errPullBackoff = errors.New("back-off pulling image")

// ensureImage makes sure the container's image is present, pulling it as
// imagePullPolicy says, and returns the reference to create from.
func (a *Agent) ensureImage(ctx context.Context, pod *corev1.Pod, spec corev1.Container) (string, error) {
	ref := spec.Image
	_, err := a.rt.ImageStatus(ctx, ref)
	present := err == nil
	if err != nil && !errors.Is(err, cri.ErrNotFound) {
		return "", err
	}
	switch {
	case spec.ImagePullPolicy == corev1.PullNever && !present:
		msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", ref)
		a.setWaiting(pod.UID, spec.Name, waitingInfo{reason: "ErrImageNeverPull", message: msg})
		a.event(pod, corev1.EventTypeWarning, "ErrImageNeverPull", "%s", msg)
		return "", errors.New(msg)
	case present && spec.ImagePullPolicy != corev1.PullAlways:
		return ref, nil
	}
	return ref, a.pull(ctx, pod, spec)
}

func (a *Agent) pull(ctx context.Context, pod *corev1.Pod, spec corev1.Container) error {
	if a.inPullBackoff(spec.Image) {
		a.setWaiting(pod.UID, spec.Name, waitingInfo{reason: "ImagePullBackOff", message: fmt.Sprintf("Back-off pulling image %q", spec.Image)})
		a.event(pod, corev1.EventTypeNormal, "BackOff", "Back-off pulling image %q", spec.Image)
		return errPullBackoff
	}
	a.event(pod, corev1.EventTypeNormal, "Pulling", "Pulling image %q", spec.Image)
	start := a.now()
	auth, err := a.pullAuth(ctx, pod, spec.Image)
	if err == nil {
		_, err = a.rt.PullImage(ctx, spec.Image, auth)
	}
	if err != nil {
		a.mu.Lock()
		a.pulls[spec.Image] = a.now()
		a.mu.Unlock()
		a.setWaiting(pod.UID, spec.Name, waitingInfo{reason: "ErrImagePull", message: err.Error()})
		a.event(pod, corev1.EventTypeWarning, "Failed", "Failed to pull image %q: %v", spec.Image, err)
		return err
	}
	a.event(pod, corev1.EventTypeNormal, "Pulled", "Successfully pulled image %q in %s", spec.Image, a.now().Sub(start).Round(time.Millisecond))
	return nil
}

func (a *Agent) inPullBackoff(image string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.pulls[image]
	return ok && a.now().Sub(t) < imagePullBackoff
}

// pullAuth finds credentials for the image's registry in the pod's
// imagePullSecrets of type kubernetes.io/dockerconfigjson.
func (a *Agent) pullAuth(ctx context.Context, pod *corev1.Pod, image string) (*cri.AuthConfig, error) {
	host := registryHost(image)
	for _, ref := range pod.Spec.ImagePullSecrets {
		s, err := a.client.CoreV1().Secrets(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil || s.Type != corev1.SecretTypeDockerConfigJson {
			continue
		}
		if auth, ok := dockerAuth(s.Data[corev1.DockerConfigJsonKey], host); ok {
			return auth, nil
		}
	}
	return nil, nil
}

// registryHost is the registry part of an image reference (docker.io when
// the first element is not a host).
func registryHost(image string) string {
	first, _, found := strings.Cut(image, "/")
	if !found || !strings.ContainsAny(first, ".:") && first != "localhost" {
		return "docker.io"
	}
	return first
}

// dockerAuth reads a .dockerconfigjson for host.
func dockerAuth(data []byte, host string) (*cri.AuthConfig, bool) {
	var cfg struct {
		Auths map[string]struct {
			Username string `json:"username"`
			Password string `json:"password"`
			Auth     string `json:"auth"`
		} `json:"auths"`
	}
	if json.Unmarshal(data, &cfg) != nil {
		return nil, false
	}
	for k, v := range cfg.Auths {
		k = strings.TrimPrefix(strings.TrimPrefix(k, "https://"), "http://")
		if strings.TrimSuffix(k, "/") != host && !strings.HasPrefix(k, host+"/") {
			continue
		}
		if v.Auth != "" {
			if raw, err := base64.StdEncoding.DecodeString(v.Auth); err == nil {
				v.Username, v.Password, _ = strings.Cut(string(raw), ":")
			}
		}
		return &cri.AuthConfig{Username: v.Username, Password: v.Password}, true
	}
	return nil, false
}
