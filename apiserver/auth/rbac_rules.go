package auth

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Rule matching as kube's RBAC authorizer: "*" matches every verb, group,
// resource and URL; "res/sub" names a subresource and "*/sub" that
// subresource of every resource; resourceNames narrow a rule to names; a
// non-resource URL ending in "*" matches every path it prefixes.

// ruleAllows reports whether rule allows the request.
func ruleAllows(at Attributes, rule *rbacv1.PolicyRule) bool {
	if !verbMatches(rule, at.Verb) {
		return false
	}
	if !at.ResourceRequest {
		return urlMatches(rule, at.Path)
	}
	combined := at.Resource
	if at.Subresource != "" {
		combined += "/" + at.Subresource
	}
	return groupMatches(rule, at.APIGroup) && resourceMatches(rule, combined, at.Subresource) && nameMatches(rule, at.Name)
}

func verbMatches(rule *rbacv1.PolicyRule, verb string) bool {
	return slices.Contains(rule.Verbs, rbacv1.VerbAll) || slices.Contains(rule.Verbs, verb)
}

func groupMatches(rule *rbacv1.PolicyRule, group string) bool {
	return slices.Contains(rule.APIGroups, rbacv1.APIGroupAll) || slices.Contains(rule.APIGroups, group)
}

func resourceMatches(rule *rbacv1.PolicyRule, combined, sub string) bool {
	for _, r := range rule.Resources {
		switch {
		case r == rbacv1.ResourceAll || r == combined:
			return true
		case sub != "" && r == "*/"+sub:
			return true
		}
	}
	return false
}

func nameMatches(rule *rbacv1.PolicyRule, name string) bool {
	return len(rule.ResourceNames) == 0 || slices.Contains(rule.ResourceNames, name)
}

func urlMatches(rule *rbacv1.PolicyRule, path string) bool {
	for _, u := range rule.NonResourceURLs {
		switch {
		case u == rbacv1.NonResourceAll || u == path:
			return true
		case strings.HasSuffix(u, "*") && strings.HasPrefix(path, strings.TrimSuffix(u, "*")):
			return true
		}
	}
	return false
}

// appliesTo reports whether a binding's subject is the user. A service
// account subject without a namespace is one of the binding's namespace.
func appliesTo(u *User, s rbacv1.Subject, bindingNamespace string) bool {
	switch s.Kind {
	case rbacv1.UserKind:
		return u.Name == s.Name
	case rbacv1.GroupKind:
		return u.InGroup(s.Name)
	case rbacv1.ServiceAccountKind:
		ns := s.Namespace
		if ns == "" {
			ns = bindingNamespace
		}
		return ns != "" && u.Name == ServiceAccountUser(ns, s.Name)
	}
	return false
}

// ServiceAccountUser is a service account's user name.
func ServiceAccountUser(namespace, name string) string {
	return "system:serviceaccount:" + namespace + ":" + name
}
