package defaults

import rbacv1 "k8s.io/api/rbac/v1"

// RoleBinding sets the roleRef's API group and the subjects' API groups
// when unset, as kube's rbac.authorization.k8s.io/v1 defaults.
func RoleBinding(b *rbacv1.RoleBinding) { bindingDefaults(&b.RoleRef, b.Subjects) }

// ClusterRoleBinding defaults as RoleBinding.
func ClusterRoleBinding(b *rbacv1.ClusterRoleBinding) { bindingDefaults(&b.RoleRef, b.Subjects) }

func bindingDefaults(ref *rbacv1.RoleRef, subjects []rbacv1.Subject) {
	if ref.APIGroup == "" {
		ref.APIGroup = rbacv1.GroupName
	}
	for i := range subjects {
		s := &subjects[i]
		if s.APIGroup == "" && (s.Kind == rbacv1.UserKind || s.Kind == rbacv1.GroupKind) {
			s.APIGroup = rbacv1.GroupName
		}
	}
}
