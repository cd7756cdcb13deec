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
	if left := a.pullBackoffLeft(spec.Image); left > 0 {
		a.setWaiting(pod.UID, spec.Name, waitingInfo{reason: "ImagePullBackOff", message: fmt.Sprintf("Back-off pulling image %q", spec.Image)})
		a.event(pod, corev1.EventTypeNormal, "BackOff", "Back-off pulling image %q", spec.Image)
		return &pullBackoffError{image: spec.Image, left: left}
	}
	a.event(pod, corev1.EventTypeNormal, "Pulling", "Pulling image %q", spec.Image)
	start := a.now()
	auth, err := a.pullAuth(ctx, pod, spec.Image)
	if err == nil {
		_, err = a.rt.PullImage(ctx, spec.Image, auth)
	}
	a.mu.Lock()
	if err != nil {
		a.pulls.failed(spec.Image, a.now())
	} else {
		a.pulls.succeeded(spec.Image)
	}
	a.mu.Unlock()
	if err != nil {
		a.setWaiting(pod.UID, spec.Name, waitingInfo{reason: "ErrImagePull", message: err.Error()})
		a.event(pod, corev1.EventTypeWarning, "Failed", "Failed to pull image %q: %v", spec.Image, err)
		return err
	}
	a.event(pod, corev1.EventTypeNormal, "Pulled", "Successfully pulled image %q in %s", spec.Image, a.now().Sub(start).Round(time.Millisecond))
	return nil
}

func (a *Agent) pullBackoffLeft(image string) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pulls.remaining(image, a.now())
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
