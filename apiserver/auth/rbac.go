package auth

import (
	rbacv1 "k8s.io/api/rbac/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
)

// rbac decides a request by the roles bound to the user, as kube's RBAC
// authorizer: allowed when a rule of a ClusterRoleBinding's role, or of a
// RoleBinding's role in the request's namespace, allows it. A denial's
// reason names the bindings whose role is missing ("" when none is).
func (a *Authorizer) rbac(at Attributes) (bool, string) {
	if a.rbacIndex == nil {
		return false, ""
	}
	allowed := false
	var errs []error
	a.rbacIndex.visitRules(at.User, at.Namespace, func(rule *rbacv1.PolicyRule, err error) bool {
		if err != nil {
			errs = append(errs, err)
			return true
		}
		allowed = ruleAllows(at, rule)
		return !allowed
	})
	if allowed || len(errs) == 0 {
		return allowed, ""
	}
	return false, "RBAC: " + utilerrors.NewAggregate(errs).Error()
}
