package images

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/cri"
)

// SecretGetter reads a Secret of the pod's namespace (client-go's
// Secrets(ns).Get with the node's credentials).
type SecretGetter func(ctx context.Context, namespace, name string) (*corev1.Secret, error)

// credentials finds credentials for the image's registry in the pod's
// imagePullSecrets of type kubernetes.io/dockerconfigjson; nil when none
// applies (an anonymous pull). A secret that cannot be read is skipped, as
// kubelet skips it.
func credentials(ctx context.Context, get SecretGetter, pod *corev1.Pod, image string) *cri.AuthConfig {
	if get == nil {
		return nil
	}
	host := registryHost(image)
	for _, ref := range pod.Spec.ImagePullSecrets {
		s, err := get(ctx, pod.Namespace, ref.Name)
		if err != nil || s.Type != corev1.SecretTypeDockerConfigJson {
			continue
		}
		if auth, ok := dockerAuth(s.Data[corev1.DockerConfigJsonKey], host); ok {
			return auth
		}
	}
	return nil
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
