package apiserver

import (
	"context"
	"errors"
	"net/http"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nodeagent/nodeagent/apiserver/auth"
	"github.com/nodeagent/nodeagent/apiserver/satoken"
)

// reviewResources are the create-only resources through which a node agent
// delegates authentication (TokenReview) and authorization
// (SubjectAccessReview) of its own API to this server, as kubelets do, and
// SelfSubjectReview, through which anyone learns who they are.
func reviewResources() []*resource {
	createOnly := metav1.Verbs{"create"}
	return append([]*resource{
		{gvk: authenticationv1.SchemeGroupVersion.WithKind("TokenReview"), plural: "tokenreviews", singular: "tokenreview",
			virtual: true, verbs: createOnly, newObj: func() runtime.Object { return &authenticationv1.TokenReview{} }},
		{gvk: authorizationv1.SchemeGroupVersion.WithKind("SubjectAccessReview"), plural: "subjectaccessreviews", singular: "subjectaccessreview",
			virtual: true, verbs: createOnly, newObj: func() runtime.Object { return &authorizationv1.SubjectAccessReview{} }},
		{gvk: authenticationv1.SchemeGroupVersion.WithKind("SelfSubjectReview"), plural: "selfsubjectreviews", singular: "selfsubjectreview",
			virtual: true, verbs: createOnly, newObj: func() runtime.Object { return &authenticationv1.SelfSubjectReview{} }},
	}, selfAccessReviewResources()...)
}

func (s *Server) serveReview(q *request) {
	if err := s.review(q); err != nil {
		s.writeError(q.w, err, q.gr(), q.info.name)
	}
}

// review answers a POST of a review: authorized like any create, then the
// status is filled in and the object returned (201); nothing is stored.
func (s *Server) review(q *request) error {
	if q.info.namespace != "" && !q.res.namespaced {
		return apierrors.NewNotFound(schema.GroupResource{}, "")
	}
	if q.info.verb != "create" || q.info.name != "" {
		return apierrors.NewMethodNotSupported(q.gr(), q.info.verb)
	}
	data, err := readBody(q.r)
	if err != nil {
		return err
	}
	obj, err := s.codecs.decodeBody(q.w, q.r, q.res, data)
	if err != nil {
		return err
	}
	switch o := obj.(type) {
	case *authenticationv1.TokenReview:
		err = s.tokenReview(q.ctx, o)
	case *authorizationv1.SubjectAccessReview:
		err = s.subjectAccessReview(q, o)
	case *authenticationv1.SelfSubjectReview:
		o.Status.UserInfo = userInfo(q.user)
	case *authorizationv1.SelfSubjectAccessReview:
		err = s.selfSubjectAccessReview(q, o)
	case *authorizationv1.SelfSubjectRulesReview:
		err = s.selfSubjectRulesReview(q, o)
	case *authorizationv1.LocalSubjectAccessReview:
		err = s.localSubjectAccessReview(q, o)
	}
	if err != nil {
		return err
	}
	return s.respond(q, http.StatusCreated, obj)
}

// tokenReview authenticates spec.token with the server's own token
// authenticator, as kube-apiserver's TokenReview does.
func (s *Server) tokenReview(ctx context.Context, tr *authenticationv1.TokenReview) error {
	if tr.Spec.Token == "" {
		return apierrors.NewBadRequest("token is required for TokenReview in authentication")
	}
	u, auds, err := s.authn.AuthenticateToken(ctx, tr.Spec.Token, tr.Spec.Audiences)
	if err != nil {
		tr.Status = authenticationv1.TokenReviewStatus{Error: reviewError(err)}
		return nil
	}
	tr.Status = authenticationv1.TokenReviewStatus{Authenticated: true, Audiences: auds, User: userInfo(u)}
	return nil
}

// userInfo is a user as the reviews tell it.
func userInfo(u *auth.User) authenticationv1.UserInfo {
	var extra map[string]authenticationv1.ExtraValue
	for k, v := range u.Extra {
		if extra == nil {
			extra = map[string]authenticationv1.ExtraValue{}
		}
		extra[k] = v
	}
	return authenticationv1.UserInfo{Username: u.Name, UID: u.UID, Groups: u.Groups, Extra: extra}
}

// reviewError is a TokenReview's status.error: kube's "invalid bearer
// token", with the service account authenticator's reason when it has one.
func reviewError(err error) string {
	if errors.Is(err, auth.ErrUnauthorized) || errors.Is(err, satoken.ErrInvalid) {
		return "invalid bearer token"
	}
	return "[invalid bearer token, " + err.Error() + "]"
}

// subjectAccessReview runs the server's authorizer on the given attributes.
// As in kube, the groups are taken as given (no system:authenticated is
// added), and a request no rule allows is not allowed but not denied.
func (s *Server) subjectAccessReview(q *request, sar *authorizationv1.SubjectAccessReview) error {
	if errs := validateSARSpec(sar.Spec, field.NewPath("spec")); len(errs) > 0 {
		return apierrors.NewInvalid(q.res.gvk.GroupKind(), "", errs)
	}
	allowed, reason, err := s.authz.Decide(q.ctx, sarAttributes(sar.Spec))
	sar.Status = authorizationv1.SubjectAccessReviewStatus{Allowed: allowed && err == nil, Reason: reason}
	if err != nil {
		sar.Status.EvaluationError = err.Error()
	}
	return nil
}

// validateSARSpec checks what kube-apiserver checks of a
// SubjectAccessReview's spec.
func validateSARSpec(spec authorizationv1.SubjectAccessReviewSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.ResourceAttributes != nil && spec.NonResourceAttributes != nil {
		errs = append(errs, field.Invalid(path.Child("nonResourceAttributes"), spec.NonResourceAttributes, "cannot be specified in combination with resourceAttributes"))
	}
	if spec.ResourceAttributes == nil && spec.NonResourceAttributes == nil {
		errs = append(errs, field.Invalid(path.Child("resourceAttributes"), spec.NonResourceAttributes, "exactly one of nonResourceAttributes or resourceAttributes must be specified"))
	}
	if spec.User == "" && len(spec.Groups) == 0 {
		errs = append(errs, field.Invalid(path.Child("user"), spec.User, "at least one of user or group must be specified"))
	}
	return errs
}

// sarAttributes are the authorizer's attributes of a review's spec.
func sarAttributes(spec authorizationv1.SubjectAccessReviewSpec) auth.Attributes {
	u := &auth.User{Name: spec.User, UID: spec.UID, Groups: spec.Groups}
	if ra := spec.ResourceAttributes; ra != nil {
		return auth.Attributes{User: u, ResourceRequest: true, Verb: ra.Verb, APIGroup: ra.Group,
			Resource: ra.Resource, Subresource: ra.Subresource, Namespace: ra.Namespace, Name: ra.Name}
	}
	na := spec.NonResourceAttributes
	return auth.Attributes{User: u, Verb: na.Verb, Path: na.Path}
}
