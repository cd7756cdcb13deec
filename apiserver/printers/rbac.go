package printers

import (
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Roles and ClusterRoles have kube-apiserver's default columns (NAME,
// CREATED AT); the bindings have these, as kube-apiserver prints them.

func bindingColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{nameColumn(),
		column("Role", rbacv1.RoleBinding{}.SwaggerDoc()["roleRef"]), ageColumn(),
		wide(column("Users", "Users in the roleBinding")),
		wide(column("Groups", "Groups in the roleBinding")),
		wide(column("ServiceAccounts", "ServiceAccounts in the roleBinding"))}
}

func roleBindingPrinter() Printer {
	return typed[*rbacv1.RoleBinding]{columns: bindingColumns(),
		cells: func(b *rbacv1.RoleBinding, now time.Time) []interface{} {
			return bindingCells(b.ObjectMeta, b.RoleRef, b.Subjects, now)
		}}
}

func clusterRoleBindingPrinter() Printer {
	return typed[*rbacv1.ClusterRoleBinding]{columns: bindingColumns(),
		cells: func(b *rbacv1.ClusterRoleBinding, now time.Time) []interface{} {
			return bindingCells(b.ObjectMeta, b.RoleRef, b.Subjects, now)
		}}
}

func bindingCells(m metav1.ObjectMeta, ref rbacv1.RoleRef, subjects []rbacv1.Subject, now time.Time) []interface{} {
	var users, groups, sas []string
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.UserKind:
			users = append(users, s.Name)
		case rbacv1.GroupKind:
			groups = append(groups, s.Name)
		case rbacv1.ServiceAccountKind:
			name := s.Name
			if s.Namespace != "" {
				name = s.Namespace + "/" + s.Name
			}
			sas = append(sas, name)
		}
	}
	return []interface{}{m.Name, ref.Kind + "/" + ref.Name, age(m.CreationTimestamp, now),
		strings.Join(users, ", "), strings.Join(groups, ", "), strings.Join(sas, ", ")}
}
