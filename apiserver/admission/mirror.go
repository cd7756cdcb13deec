package admission

import (
	"errors"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/api/podrefs"
)

// MirrorPod is kube's ServiceAccount admission for a new mirror pod,
// whoever creates it: a mirror pod names no service account and no secret
// and projects no service account token. (It runs before NodeRestriction,
// so a node's mirror pod that names a secret reads this message.)
func MirrorPod(a Attributes) error {
	pod, ok := a.Object.(*corev1.Pod)
	if a.Operation != Create || a.Resource != podsResource || a.Subresource != "" || !ok || !podrefs.IsMirror(pod) {
		return nil
	}
	switch {
	case pod.Spec.ServiceAccountName != "":
		return forbidden(a, errors.New("a mirror pod may not reference service accounts"))
	case len(podrefs.Secrets(pod)) > 0:
		return forbidden(a, errors.New("a mirror pod may not reference secrets"))
	case projectsToken(pod):
		return forbidden(a, errors.New("a mirror pod may not use ServiceAccountToken volume projections"))
	}
	return nil
}

func projectsToken(pod *corev1.Pod) bool {
	for _, v := range pod.Spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, src := range v.Projected.Sources {
			if src.ServiceAccountToken != nil {
				return true
			}
		}
	}
	return false
}
