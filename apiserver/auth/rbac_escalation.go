package auth

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Escalation prevention, as kube's RBAC registry: a user may grant (in a
// role, or by binding a role) only rules they hold themselves, in the
// namespace of the role or binding, unless allowed the "escalate" or
// "bind" verb (which the callers ask the authorizer).

// ConfirmNoEscalation returns kube's error when u does not hold every rule
// of rules in namespace ("" for cluster-wide rules only).
func (x *RBACIndex) ConfirmNoEscalation(u *User, namespace string, rules []rbacv1.PolicyRule) error {
	owner, errs := x.RulesFor(u, namespace)
	missing := uncovered(owner, rules)
	if len(missing) == 0 {
		return nil
	}
	var lines []string
	for _, r := range compactRules(missing) {
		lines = append(lines, compactString(r))
	}
	sort.Strings(lines)
	lines = slices.Compact(lines)
	msg := fmt.Sprintf("user %q (groups=%q) is attempting to grant RBAC permissions not currently held:\n%s",
		u.Name, u.Groups, strings.Join(lines, "\n"))
	if len(errs) > 0 {
		msg += fmt.Sprintf("; resolution errors: %v", errs)
	}
	return errors.New(msg)
}

// MissingRules are the atomic rules of rules (one verb, group, resource or
// URL, and name each) that no rule of owner covers, as kube's Covers.
func MissingRules(owner, rules []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	return uncovered(owner, rules)
}

// uncovered are the atomic rules of rules (one verb, group, resource or
// URL, and name each) no rule of owner covers.
func uncovered(owner, rules []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	var missing []rbacv1.PolicyRule
	for _, rule := range rules {
		for _, atom := range breakdown(rule) {
			if !slices.ContainsFunc(owner, func(o rbacv1.PolicyRule) bool { return covers(o, atom) }) {
				missing = append(missing, atom)
			}
		}
	}
	return missing
}

func breakdown(rule rbacv1.PolicyRule) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	names := rule.ResourceNames
	if len(names) == 0 {
		names = []string{""}
	}
	for _, g := range rule.APIGroups {
		for _, r := range rule.Resources {
			for _, v := range rule.Verbs {
				for _, n := range names {
					atom := rbacv1.PolicyRule{APIGroups: []string{g}, Resources: []string{r}, Verbs: []string{v}}
					if n != "" {
						atom.ResourceNames = []string{n}
					}
					out = append(out, atom)
				}
			}
		}
	}
	for _, u := range rule.NonResourceURLs {
		for _, v := range rule.Verbs {
			out = append(out, rbacv1.PolicyRule{NonResourceURLs: []string{u}, Verbs: []string{v}})
		}
	}
	return out
}

// covers reports whether owner grants everything atom does.
func covers(owner, atom rbacv1.PolicyRule) bool {
	return (slices.Contains(owner.Verbs, rbacv1.VerbAll) || containsAll(owner.Verbs, atom.Verbs)) &&
		(slices.Contains(owner.APIGroups, rbacv1.APIGroupAll) || containsAll(owner.APIGroups, atom.APIGroups)) &&
		resourcesCover(owner.Resources, atom.Resources) && urlsCover(owner.NonResourceURLs, atom.NonResourceURLs) &&
		(len(owner.ResourceNames) == 0 || (len(atom.ResourceNames) > 0 && containsAll(owner.ResourceNames, atom.ResourceNames)))
}

func containsAll(set, want []string) bool {
	for _, w := range want {
		if !slices.Contains(set, w) {
			return false
		}
	}
	return true
}

func resourcesCover(set, want []string) bool {
	if slices.Contains(set, rbacv1.ResourceAll) {
		return true
	}
	for _, w := range want {
		if slices.Contains(set, w) {
			continue
		}
		i := strings.Index(w, "/")
		if i < 0 || !slices.Contains(set, "*"+w[i:]) {
			return false
		}
	}
	return true
}

func urlsCover(set, want []string) bool {
	for _, w := range want {
		if !slices.ContainsFunc(set, func(u string) bool {
			return u == w || (strings.HasSuffix(u, "*") && strings.HasPrefix(w, strings.TrimSuffix(u, "*")))
		}) {
			return false
		}
	}
	return true
}

// compactRules merges the verbs of atomic rules on the same group and
// resource (without names), as kube's CompactRules, for the message.
func compactRules(rules []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	at := map[[2]string]int{}
	for _, r := range rules {
		if len(r.ResourceNames) > 0 || len(r.NonResourceURLs) > 0 {
			out = append(out, r)
			continue
		}
		key := [2]string{r.APIGroups[0], r.Resources[0]}
		if i, ok := at[key]; ok {
			if !slices.Contains(out[i].Verbs, r.Verbs[0]) {
				out[i].Verbs = append(out[i].Verbs, r.Verbs[0])
			}
			continue
		}
		at[key] = len(out)
		out = append(out, rbacv1.PolicyRule{APIGroups: r.APIGroups, Resources: r.Resources, Verbs: slices.Clone(r.Verbs)})
	}
	return out
}

// compactString is kube's PolicyRule.CompactString.
func compactString(r rbacv1.PolicyRule) string {
	var parts []string
	add := func(name string, v []string) {
		if len(v) > 0 {
			parts = append(parts, fmt.Sprintf("%s:%q", name, v))
		}
	}
	add("APIGroups", r.APIGroups)
	add("Resources", r.Resources)
	add("NonResourceURLs", r.NonResourceURLs)
	add("ResourceNames", r.ResourceNames)
	add("Verbs", r.Verbs)
	return "{" + strings.Join(parts, ", ") + "}"
}
