package apiserver

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/apiserver/auth"
	"github.com/nodeagent/nodeagent/apiserver/satoken"
	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// Service account groups and the extra keys kube gives a token's user.
const (
	groupServiceAccounts = auth.GroupServiceAccounts
	extraPodName         = "authentication.kubernetes.io/pod-name"
	extraPodUID          = "authentication.kubernetes.io/pod-uid"
	extraNodeName        = "authentication.kubernetes.io/node-name"
	extraNodeUID         = "authentication.kubernetes.io/node-uid"
	extraCredentialID    = "authentication.kubernetes.io/credential-id"
)

// deletionGrace: a token bound to an object being deleted stays good this
// long after the deletion started (kube gives the pod's containers time
// to finish with it).
const deletionGrace = 60 * time.Second

// errInvalidated is kube's reason for a token whose bound object is gone.
var errInvalidated = errors.New("service account token has been invalidated")

// boundTokens authenticates the server's service account tokens: signed
// here, for one of the audiences, not expired, and every object it is
// bound to still there with the same UID.
type boundTokens struct{ s *Server }

func (b boundTokens) AuthenticateBound(ctx context.Context, token string, audiences []string) (*auth.User, []string, error) {
	s := b.s
	c, auds, err := s.tokens.Verify(token, audiences, s.now())
	if err != nil {
		return nil, nil, err
	}
	k := c.Kubernetes
	if c.Subject != serviceAccountUser(k.Namespace, k.ServiceAccount.Name) {
		return nil, nil, satoken.ErrInvalid
	}
	refs := []struct {
		resource, namespace string
		ref                 *satoken.Ref
	}{{"serviceaccounts", k.Namespace, &k.ServiceAccount}, {"pods", k.Namespace, k.Pod}, {"secrets", k.Namespace, k.Secret}}
	if k.Pod == nil {
		refs = append(refs, struct {
			resource, namespace string
			ref                 *satoken.Ref
		}{"nodes", "", k.Node})
	}
	for _, r := range refs {
		if r.ref == nil {
			continue
		}
		if err := s.stillBound(ctx, r.resource, r.namespace, *r.ref); err != nil {
			return nil, nil, err
		}
	}
	return serviceAccountInfo(c), auds, nil
}

// stillBound: the object exists with the UID, and its deletion (if any)
// started less than deletionGrace ago.
func (s *Server) stillBound(ctx context.Context, resource, namespace string, ref satoken.Ref) error {
	res, _ := s.reg.lookup("", "v1", resource)
	obj, err := s.store(res).Get(ctx, namespace, ref.Name)
	if storage.IsNotFound(err) {
		return errInvalidated
	}
	if err != nil {
		return err
	}
	m := obj.(metav1.Object)
	if string(m.GetUID()) != ref.UID {
		return errInvalidated
	}
	if d := m.GetDeletionTimestamp(); d != nil && d.Time.Before(s.now().Add(-deletionGrace)) {
		return errInvalidated
	}
	return nil
}

// serviceAccountInfo is the user of a token: kube's service account user,
// groups and extra.
func serviceAccountInfo(c *satoken.Claims) *auth.User {
	k := c.Kubernetes
	u := &auth.User{Name: c.Subject, UID: k.ServiceAccount.UID,
		Groups: []string{groupServiceAccounts, groupServiceAccounts + ":" + k.Namespace},
		Extra:  map[string][]string{extraCredentialID: {"JTI=" + c.ID}}}
	if k.Pod != nil {
		u.Extra[extraPodName], u.Extra[extraPodUID] = []string{k.Pod.Name}, []string{k.Pod.UID}
	}
	if k.Node != nil {
		u.Extra[extraNodeName], u.Extra[extraNodeUID] = []string{k.Node.Name}, []string{k.Node.UID}
	}
	return u
}

// getObject reads one object of a served resource, with kube's NotFound.
func (s *Server) getObject(q *request, group, version, resource, namespace, name string) (runtime.Object, error) {
	res, ok := s.reg.lookup(group, version, resource)
	if !ok {
		return nil, errors.New("no resource " + resource)
	}
	obj, err := s.store(res).Get(q.ctx, namespace, name)
	if err != nil {
		return nil, statusError(err, res.groupResource(), name)
	}
	return obj, nil
}

// podLookup reads pods from storage for admission.
type podLookup struct{ s *Server }

func (l podLookup) Pod(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	res, _ := l.s.reg.lookup("", "v1", "pods")
	obj, err := l.s.store(res).Get(ctx, namespace, name)
	if err != nil {
		return nil, statusError(err, res.groupResource(), name)
	}
	return obj.(*corev1.Pod), nil
}
