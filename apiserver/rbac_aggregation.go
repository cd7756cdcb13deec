package apiserver

import (
	"context"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/apiserver/auth"
)

// The ClusterRole aggregation controller, as kube-controller-manager's: a
// ClusterRole with an aggregationRule gets, as its rules, the rules of the
// ClusterRoles its selectors match (in name order, each rule once). It
// reads the RBAC index and runs on every change of a ClusterRole.

// aggregatedRules computes the rules of role from roles; ok is false when
// role has no aggregationRule.
func aggregatedRules(role *rbacv1.ClusterRole, roles []*rbacv1.ClusterRole) ([]rbacv1.PolicyRule, bool) {
	if role.AggregationRule == nil {
		return nil, false
	}
	var selectors []labels.Selector
	for i := range role.AggregationRule.ClusterRoleSelectors {
		sel, err := metav1.LabelSelectorAsSelector(&role.AggregationRule.ClusterRoleSelectors[i])
		if err == nil {
			selectors = append(selectors, sel)
		}
	}
	sorted := slices.Clone(roles)
	slices.SortFunc(sorted, func(a, b *rbacv1.ClusterRole) int { return strings.Compare(a.Name, b.Name) })
	out := []rbacv1.PolicyRule{}
	for _, r := range sorted {
		if r.Name == role.Name || !slices.ContainsFunc(selectors, func(s labels.Selector) bool { return s.Matches(labels.Set(r.Labels)) }) {
			continue
		}
		for _, rule := range r.Rules {
			if !slices.ContainsFunc(out, func(o rbacv1.PolicyRule) bool { return equality.Semantic.DeepEqual(o, rule) }) {
				out = append(out, rule)
			}
		}
	}
	return out, true
}

// aggregateClusterRoles runs the controller until ctx ends: once the index
// is synced, then on every kick.
func (s *Server) aggregateClusterRoles(ctx context.Context, kick <-chan struct{}) {
	if s.rbac.WaitSynced(ctx) != nil {
		return
	}
	for {
		s.aggregateOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-kick:
		}
	}
}

func (s *Server) aggregateOnce(ctx context.Context) {
	roles := s.rbac.ClusterRoles()
	res, _ := s.reg.lookup(rbacV1.Group, rbacV1.Version, auth.ResClusterRoles)
	for _, role := range roles {
		want, ok := aggregatedRules(role, roles)
		if !ok || equality.Semantic.DeepEqual(want, role.Rules) {
			continue
		}
		_, err := s.store(res).Update(ctx, "", role.Name, func(cur runtime.Object) (runtime.Object, error) {
			next := cur.DeepCopyObject().(*rbacv1.ClusterRole)
			next.Rules = want
			return next, nil
		})
		if err != nil && ctx.Err() == nil {
			s.log.Warn("clusterrole aggregation", "clusterrole", role.Name, "err", err)
		}
	}
}
