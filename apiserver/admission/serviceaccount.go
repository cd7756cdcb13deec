package admission

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/api/podrefs"
)

// The in-cluster identity kube-apiserver's ServiceAccount admission gives
// a pod: the kube-api-access-<suffix> projected volume, mounted read-only
// at DefaultAPITokenMountPath in every container and init container.
const (
	DefaultServiceAccountName = "default"
	DefaultAPITokenMountPath  = "/var/run/secrets/kubernetes.io/serviceaccount"
	// ServiceAccountVolumeName is the volume's name before its suffix.
	ServiceAccountVolumeName = "kube-api-access"
	// RootCAConfigMap holds the cluster's CA (ca.crt) in every namespace,
	// made by the root CA publisher (controllers/rootcacert).
	RootCAConfigMap = "kube-root-ca.crt"
	// TokenExpirationSeconds is what the volume's token asks for: kube's
	// WarnOnlyBoundTokenExpirationSeconds (3607), which the server extends
	// for the API's audiences and warns about after an hour.
	TokenExpirationSeconds = 3607
	projectedDefaultMode   = 0o644
)

// ServiceAccounts looks up a service account; a missing one is an
// apierrors NotFound.
type ServiceAccounts interface {
	ServiceAccount(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error)
}

// defaultAccountWait is how long a new pod waits for its namespace's
// "default" service account, which the service account controller makes
// with the namespace (kube looks up to 10 times, 100-200 ms apart).
const (
	defaultAccountWait = 2 * time.Second
	accountPoll        = 100 * time.Millisecond
)

// ServiceAccount is kube's ServiceAccount admission plugin.
type ServiceAccount struct {
	Accounts ServiceAccounts
	// Suffix makes the random part of a kube-api-access volume's name
	// (kube's: 5 characters of utilrand.String).
	Suffix func() string
	Clock  clock.Clock
}

// Admit admits a new pod that is not a mirror pod (MirrorPod checks those,
// which get nothing): the pod's service account ("default" when it names
// none) must exist; unless automountServiceAccountToken says no (the
// pod's, else the account's), the pod gets the projected volume
// kube-api-access-<suffix> (its token, the root CA and its namespace)
// mounted read-only at DefaultAPITokenMountPath in each container and init
// container that mounts nothing there; a pod without imagePullSecrets gets
// the account's.
func (p ServiceAccount) Admit(ctx context.Context, a Attributes) error {
	pod, ok := a.Object.(*corev1.Pod)
	if a.Operation != Create || a.Resource != podsResource || a.Subresource != "" || !ok || podrefs.IsMirror(pod) {
		return nil
	}
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = DefaultServiceAccountName
		pod.Spec.DeprecatedServiceAccount = DefaultServiceAccountName
	}
	sa, err := p.lookup(ctx, a.Namespace, pod.Spec.ServiceAccountName)
	if err != nil {
		return forbidden(a, fmt.Errorf("error looking up service account %s/%s: %w", a.Namespace, pod.Spec.ServiceAccountName, err))
	}
	if automount(sa, pod) {
		mountServiceAccountToken(pod, p.Suffix)
	}
	if len(pod.Spec.ImagePullSecrets) == 0 && len(sa.ImagePullSecrets) > 0 {
		pod.Spec.ImagePullSecrets = append([]corev1.LocalObjectReference(nil), sa.ImagePullSecrets...)
	}
	return nil
}

// lookup gets the account; the default one is waited for a moment.
func (p ServiceAccount) lookup(ctx context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	deadline := p.Clock.Now().Add(defaultAccountWait)
	for {
		sa, err := p.Accounts.ServiceAccount(ctx, ns, name)
		if !apierrors.IsNotFound(err) || name != DefaultServiceAccountName || p.Clock.Now().After(deadline) {
			if apierrors.IsNotFound(err) {
				err = apierrors.NewNotFound(schema.GroupResource{Resource: "serviceaccount"}, name)
			}
			return sa, err
		}
		t := p.Clock.NewTimer(accountPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C():
		}
	}
}

// automount: the pod's automountServiceAccountToken, else the account's,
// else true.
func automount(sa *corev1.ServiceAccount, pod *corev1.Pod) bool {
	if v := pod.Spec.AutomountServiceAccountToken; v != nil {
		return *v
	}
	if v := sa.AutomountServiceAccountToken; v != nil {
		return *v
	}
	return true
}

// mountServiceAccountToken mounts the pod's kube-api-access volume (one it
// has already, by its name's prefix, or a new one) in every container and
// init container without a mount at DefaultAPITokenMountPath; the volume
// is added only if a container mounts it.
func mountServiceAccountToken(pod *corev1.Pod, suffix func() string) {
	name, has := "", false
	for _, v := range pod.Spec.Volumes {
		if strings.HasPrefix(v.Name, ServiceAccountVolumeName+"-") {
			name, has = v.Name, true
			break
		}
	}
	if name == "" {
		name = ServiceAccountVolumeName + "-" + suffix()
	}
	mount := corev1.VolumeMount{Name: name, ReadOnly: true, MountPath: DefaultAPITokenMountPath}
	added := addMount(pod.Spec.InitContainers, mount)
	added = addMount(pod.Spec.Containers, mount) || added
	if added && !has {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: name,
			VolumeSource: corev1.VolumeSource{Projected: TokenVolumeSource()}})
	}
}

// addMount adds mount to each container that has none at its path.
func addMount(cs []corev1.Container, mount corev1.VolumeMount) bool {
	added := false
	for i := range cs {
		if !hasMountAt(cs[i], mount.MountPath) {
			cs[i].VolumeMounts = append(cs[i].VolumeMounts, mount)
			added = true
		}
	}
	return added
}

func hasMountAt(c corev1.Container, path string) bool {
	for _, m := range c.VolumeMounts {
		if m.MountPath == path {
			return true
		}
	}
	return false
}

// TokenVolumeSource is the kube-api-access volume's source, as kube
// writes it: the token (3607 s, for the API's audiences), the root CA
// ConfigMap's ca.crt, the namespace; defaultMode 0644.
func TokenVolumeSource() *corev1.ProjectedVolumeSource {
	mode, exp := int32(projectedDefaultMode), int64(TokenExpirationSeconds)
	return &corev1.ProjectedVolumeSource{DefaultMode: &mode, Sources: []corev1.VolumeProjection{
		{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: &exp}},
		{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: RootCAConfigMap},
			Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
		{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace",
			FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
	}}
}
