package apiserver

import (
	"fmt"
	"mime"
	"net/http"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nodeagent/nodeagent/api/validation"
	"github.com/nodeagent/nodeagent/apiserver/admission"
	"github.com/nodeagent/nodeagent/apiserver/satoken"
)

// Token lifetimes, as kube's TokenRequest has them.
const (
	defaultTokenSeconds = 3600
	// warnOnlySeconds is what kubelet asks for the kube-api-access volume;
	// such a pod-bound token for the API is valid for a year, and says
	// when it should have been replaced (kube's
	// --service-account-extend-token-expiration, on by default).
	warnOnlySeconds  = 3607
	extendedLifetime = 365 * 24 * time.Hour
)

var tokenRequestGVK = authenticationv1.SchemeGroupVersion.WithKind("TokenRequest")

// setupServiceAccountTokens loads or makes the signing key and lets the
// authenticator accept the tokens it signs.
func (s *Server) setupServiceAccountTokens() error {
	key, err := satoken.LoadOrCreateKey(s.pkiDir())
	if err != nil {
		return err
	}
	if s.tokens, err = satoken.NewSigner(s.cfg.ServiceAccountIssuer, key); err != nil {
		return err
	}
	s.authn.SetBoundTokens(boundTokens{s}, s.cfg.APIAudiences)
	s.authn.SetBootstrapTokens(bootstrapTokens{s})
	return nil
}

// serveTokenRequest answers POST serviceaccounts/<name>/token: a signed,
// expiring token of the service account for the audiences asked (the API
// by default), bound to a pod, secret or node when asked. Nothing is
// stored.
func (s *Server) serveTokenRequest(q *request) error {
	tr, err := s.decodeTokenRequest(q)
	if err != nil {
		return err
	}
	defaultTokenRequest(tr, s.cfg.APIAudiences)
	if errs := validateTokenRequest(tr); len(errs) > 0 {
		return apierrors.NewInvalid(tokenRequestGVK.GroupKind(), tr.Name, errs)
	}
	if node, ok := q.user.NodeName(); ok {
		a := admission.Attributes{Operation: admission.Create, Resource: q.gr(), Subresource: "token",
			Namespace: q.info.namespace, Name: q.info.name, Object: tr}
		if err := admission.NodeTokenRequest(q.ctx, node, a, podLookup{s}); err != nil {
			return err
		}
	}
	sa, err := s.getObject(q, "", "v1", "serviceaccounts", q.info.namespace, q.info.name)
	if err != nil {
		return err
	}
	claims, err := s.tokenClaims(q, sa.(*corev1.ServiceAccount), tr)
	if err != nil {
		return err
	}
	if tr.Status.Token, err = s.tokens.Sign(claims); err != nil {
		return apierrors.NewInternalError(err)
	}
	tr.Status.ExpirationTimestamp = metav1.NewTime(claims.IssuedAt.Time().Add(time.Duration(*tr.Spec.ExpirationSeconds) * time.Second))
	tr.TypeMeta = metav1.TypeMeta{Kind: "TokenRequest", APIVersion: tokenRequestGVK.GroupVersion().String()}
	s.codecs.writeObject(q.w, http.StatusCreated, tr, q.out)
	return nil
}

func (s *Server) decodeTokenRequest(q *request) (*authenticationv1.TokenRequest, error) {
	data, err := readBody(q.r)
	if err != nil {
		return nil, err
	}
	mode, err := parseFieldValidation(q.r)
	if err != nil {
		return nil, err
	}
	mt := mediaJSON
	if ct := q.r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return nil, unsupportedMediaType(ct)
		}
	}
	obj, err := s.codecs.decode(q.w, data, mt, mode, tokenRequestGVK, &authenticationv1.TokenRequest{})
	if err != nil {
		return nil, err
	}
	return obj.(*authenticationv1.TokenRequest), nil
}

func defaultTokenRequest(tr *authenticationv1.TokenRequest, apiAudiences []string) {
	if tr.Spec.ExpirationSeconds == nil {
		tr.Spec.ExpirationSeconds = ptrTo(int64(defaultTokenSeconds))
	}
	if len(tr.Spec.Audiences) == 0 {
		tr.Spec.Audiences = slices.Clone(apiAudiences)
	}
}

// validateTokenRequest is kube's ValidateTokenRequest.
func validateTokenRequest(tr *authenticationv1.TokenRequest) field.ErrorList {
	return validation.TokenExpiration(*tr.Spec.ExpirationSeconds, field.NewPath("spec", "expirationSeconds"))
}

// tokenClaims are the token's claims: the service account, the object it
// is bound to (and a pod's node), the audiences and the lifetime.
func (s *Server) tokenClaims(q *request, sa *corev1.ServiceAccount, tr *authenticationv1.TokenRequest) (satoken.Claims, error) {
	now := s.now()
	lifetime := time.Duration(*tr.Spec.ExpirationSeconds) * time.Second
	k := satoken.Kubernetes{Namespace: sa.Namespace, ServiceAccount: satoken.Ref{Name: sa.Name, UID: string(sa.UID)}}
	if ref := tr.Spec.BoundObjectRef; ref != nil {
		if err := s.bindToken(q, sa, ref, &k); err != nil {
			return satoken.Claims{}, err
		}
	}
	if k.Pod != nil && *tr.Spec.ExpirationSeconds == warnOnlySeconds && subset(tr.Spec.Audiences, s.cfg.APIAudiences) {
		k.WarnAfter = jwt.NewNumericDate(now.Add(lifetime))
		lifetime = extendedLifetime
	}
	return satoken.Claims{Claims: jwt.Claims{Subject: serviceAccountUser(sa.Namespace, sa.Name), Audience: tr.Spec.Audiences,
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(lifetime)),
		ID: string(uuid.NewUUID())}, Kubernetes: k}, nil
}

func subset(xs, of []string) bool {
	for _, x := range xs {
		if !slices.Contains(of, x) {
			return false
		}
	}
	return true
}

// bindToken checks the object the token is to be bound to, as kube does,
// and records it (a pod's node too) in k.
func (s *Server) bindToken(q *request, sa *corev1.ServiceAccount, ref *authenticationv1.BoundObjectReference, k *satoken.Kubernetes) error {
	gvk := schema.FromAPIVersionAndKind(ref.APIVersion, ref.Kind)
	var uid string
	switch {
	case gvk.Group == "" && gvk.Kind == "Pod":
		obj, err := s.getObject(q, "", "v1", "pods", sa.Namespace, ref.Name)
		if err != nil {
			return err
		}
		pod := obj.(*corev1.Pod)
		if pod.Spec.ServiceAccountName != sa.Name {
			return apierrors.NewBadRequest(fmt.Sprintf("cannot bind token for serviceaccount %q to pod running with different serviceaccount name.", sa.Name))
		}
		uid, k.Pod = string(pod.UID), &satoken.Ref{Name: pod.Name, UID: string(pod.UID)}
		if pod.Spec.NodeName != "" {
			if node, err := s.getObject(q, "", "v1", "nodes", "", pod.Spec.NodeName); err == nil {
				k.Node = &satoken.Ref{Name: pod.Spec.NodeName, UID: string(node.(*corev1.Node).UID)}
			}
		}
	case gvk.Group == "" && gvk.Kind == "Secret":
		obj, err := s.getObject(q, "", "v1", "secrets", sa.Namespace, ref.Name)
		if err != nil {
			return err
		}
		uid, k.Secret = string(obj.(*corev1.Secret).UID), &satoken.Ref{Name: ref.Name, UID: string(obj.(*corev1.Secret).UID)}
	case gvk.Group == "" && gvk.Kind == "Node":
		obj, err := s.getObject(q, "", "v1", "nodes", "", ref.Name)
		if err != nil {
			return err
		}
		uid, k.Node = string(obj.(*corev1.Node).UID), &satoken.Ref{Name: ref.Name, UID: string(obj.(*corev1.Node).UID)}
	default:
		return apierrors.NewBadRequest(fmt.Sprintf("cannot bind token to object of type %s", gvk.String()))
	}
	if ref.UID != "" && string(ref.UID) != uid {
		return apierrors.NewConflict(schema.GroupResource{Group: gvk.Group, Resource: gvk.Kind}, ref.Name,
			fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", ref.UID))
	}
	return nil
}

func serviceAccountUser(namespace, name string) string {
	return "system:serviceaccount:" + namespace + ":" + name
}
