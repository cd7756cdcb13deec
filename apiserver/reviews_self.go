package apiserver

import (
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// selfAccessReviewResources are the reviews through which a user asks what
// they may do (kubectl auth can-i, can-i --list).
func selfAccessReviewResources() []*resource {
	createOnly := metav1.Verbs{"create"}
	return []*resource{
		{gvk: authorizationv1.SchemeGroupVersion.WithKind("SelfSubjectAccessReview"), plural: "selfsubjectaccessreviews", singular: "selfsubjectaccessreview",
			virtual: true, verbs: createOnly, newObj: func() runtime.Object { return &authorizationv1.SelfSubjectAccessReview{} }},
		{gvk: authorizationv1.SchemeGroupVersion.WithKind("SelfSubjectRulesReview"), plural: "selfsubjectrulesreviews", singular: "selfsubjectrulesreview",
			virtual: true, verbs: createOnly, newObj: func() runtime.Object { return &authorizationv1.SelfSubjectRulesReview{} }},
		{gvk: authorizationv1.SchemeGroupVersion.WithKind("LocalSubjectAccessReview"), plural: "localsubjectaccessreviews", singular: "localsubjectaccessreview",
			namespaced: true, virtual: true, verbs: createOnly, newObj: func() runtime.Object { return &authorizationv1.LocalSubjectAccessReview{} }},
	}
}

// localSubjectAccessReview is a SubjectAccessReview within the request's
// namespace, as kube-apiserver's: its resourceAttributes name that
// namespace, and it takes no nonResourceAttributes.
func (s *Server) localSubjectAccessReview(q *request, r *authorizationv1.LocalSubjectAccessReview) error {
	errs := validateSARSpec(r.Spec, field.NewPath("spec"))
	if r.Spec.NonResourceAttributes != nil {
		errs = append(errs, field.Invalid(field.NewPath("spec", "nonResourceAttributes"), r.Spec.NonResourceAttributes, "disallowed on this kind of request"))
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(q.res.gvk.GroupKind(), "", errs)
	}
	if r.Spec.ResourceAttributes.Namespace != q.info.namespace {
		return apierrors.NewBadRequest(fmt.Sprintf("spec.resourceAttributes.namespace must match namespace: %v", q.info.namespace))
	}
	allowed, reason, err := s.authz.Decide(q.ctx, sarAttributes(r.Spec))
	r.Status = authorizationv1.SubjectAccessReviewStatus{Allowed: allowed && err == nil, Reason: reason}
	if err != nil {
		r.Status.EvaluationError = err.Error()
	}
	return nil
}

// selfSubjectAccessReview runs the authorizer on the attributes, for the
// requesting user, as kube-apiserver's SelfSubjectAccessReview.
func (s *Server) selfSubjectAccessReview(q *request, r *authorizationv1.SelfSubjectAccessReview) error {
	spec := authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: r.Spec.ResourceAttributes, NonResourceAttributes: r.Spec.NonResourceAttributes}
	var errs field.ErrorList
	path := field.NewPath("spec")
	if spec.ResourceAttributes != nil && spec.NonResourceAttributes != nil {
		errs = append(errs, field.Invalid(path.Child("nonResourceAttributes"), spec.NonResourceAttributes, "cannot be specified in combination with resourceAttributes"))
	}
	if spec.ResourceAttributes == nil && spec.NonResourceAttributes == nil {
		errs = append(errs, field.Invalid(path.Child("resourceAttributes"), spec.NonResourceAttributes, "exactly one of nonResourceAttributes or resourceAttributes must be specified"))
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(q.res.gvk.GroupKind(), "", errs)
	}
	at := sarAttributes(spec)
	at.User = q.user
	allowed, reason, err := s.authz.Decide(q.ctx, at)
	r.Status = authorizationv1.SubjectAccessReviewStatus{Allowed: allowed && err == nil, Reason: reason}
	if err != nil {
		r.Status.EvaluationError = err.Error()
	}
	return nil
}

// selfSubjectRulesReview lists the rules RBAC grants the requesting user in
// spec.namespace, as kube-apiserver's SelfSubjectRulesReview; it is
// incomplete for a node, whose rights the Node authorizer decides.
func (s *Server) selfSubjectRulesReview(q *request, r *authorizationv1.SelfSubjectRulesReview) error {
	if r.Spec.Namespace == "" {
		return apierrors.NewBadRequest("no namespace on request")
	}
	rules, errs := s.rbac.RulesFor(q.user, r.Spec.Namespace)
	status := authorizationv1.SubjectRulesReviewStatus{ResourceRules: []authorizationv1.ResourceRule{}, NonResourceRules: []authorizationv1.NonResourceRule{}}
	for _, rule := range rules {
		if len(rule.Resources) > 0 {
			status.ResourceRules = append(status.ResourceRules, authorizationv1.ResourceRule{Verbs: rule.Verbs,
				APIGroups: rule.APIGroups, Resources: rule.Resources, ResourceNames: rule.ResourceNames})
		}
		if len(rule.NonResourceURLs) > 0 {
			status.NonResourceRules = append(status.NonResourceRules, authorizationv1.NonResourceRule{Verbs: rule.Verbs, NonResourceURLs: rule.NonResourceURLs})
		}
	}
	if _, isNode := q.user.NodeName(); isNode {
		status.Incomplete = true
	}
	if len(errs) > 0 {
		status.Incomplete = true
		status.EvaluationError = errorList(errs)
	}
	r.Status = status
	return nil
}

// errorList is kube's aggregate error text: one error as is, more in
// brackets.
func errorList(errs []error) string {
	if len(errs) == 1 {
		return errs[0].Error()
	}
	msg := "["
	for i, e := range errs {
		if i > 0 {
			msg += ", "
		}
		msg += e.Error()
	}
	return msg + "]"
}
