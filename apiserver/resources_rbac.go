package apiserver

import (
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/api/defaults"
	"github.com/nodeagent/nodeagent/api/validation"
)

var rbacV1 = rbacv1.SchemeGroupVersion

// rbacResources are the rbac.authorization.k8s.io/v1 resources: the roles
// and bindings the RBAC authorizer reads.
func rbacResources() []*resource {
	none := func(runtime.Object) {}
	return []*resource{
		{gvk: rbacV1.WithKind("ClusterRoleBinding"), plural: "clusterrolebindings", singular: "clusterrolebinding",
			newObj: func() runtime.Object { return &rbacv1.ClusterRoleBinding{} }, newList: func() runtime.Object { return &rbacv1.ClusterRoleBindingList{} },
			strategy: strategy{defaults: typed(defaults.ClusterRoleBinding), validate: typedV(validation.ClusterRoleBinding),
				validateUpdate: typedU(validation.ClusterRoleBindingUpdate)}},
		{gvk: rbacV1.WithKind("ClusterRole"), plural: "clusterroles", singular: "clusterrole",
			newObj: func() runtime.Object { return &rbacv1.ClusterRole{} }, newList: func() runtime.Object { return &rbacv1.ClusterRoleList{} },
			strategy: strategy{defaults: none, validate: typedV(validation.ClusterRole), validateUpdate: typedU(validation.ClusterRoleUpdate)}},
		{gvk: rbacV1.WithKind("RoleBinding"), plural: "rolebindings", singular: "rolebinding", namespaced: true,
			newObj: func() runtime.Object { return &rbacv1.RoleBinding{} }, newList: func() runtime.Object { return &rbacv1.RoleBindingList{} },
			strategy: strategy{defaults: typed(defaults.RoleBinding), validate: typedV(validation.RoleBinding),
				validateUpdate: typedU(validation.RoleBindingUpdate)}},
		{gvk: rbacV1.WithKind("Role"), plural: "roles", singular: "role", namespaced: true,
			newObj: func() runtime.Object { return &rbacv1.Role{} }, newList: func() runtime.Object { return &rbacv1.RoleList{} },
			strategy: strategy{defaults: none, validate: typedV(validation.Role), validateUpdate: typedU(validation.RoleUpdate)}},
	}
}
