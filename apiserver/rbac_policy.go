package apiserver

import (
	"context"
	"fmt"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/apiserver/auth"
	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// The default roles and bindings the server creates at start when they are
// missing, after kube's bootstrap policy (the ones users rely on). Nodes
// get no role: the Node authorizer decides for them, and kube binds
// system:node to no one.

var (
	verbsRead      = []string{"get", "list", "watch"}
	verbsWrite     = []string{"create", "delete", "deletecollection", "patch", "update"}
	verbsReadWrite = append(append([]string{}, verbsRead...), verbsWrite...)
)

// Labels and annotations kube puts on its default policy.
const (
	labelBootstrapping = "kubernetes.io/bootstrapping"
	annotationAuto     = "rbac.authorization.kubernetes.io/autoupdate"
	aggregateTo        = "rbac.authorization.k8s.io/aggregate-to-"
)

func rules(verbs []string, group string, resources ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, APIGroups: []string{group}, Resources: resources}
}

func urls(verbs []string, paths ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, NonResourceURLs: paths}
}

func defaultMeta(name string, labels map[string]string) metav1.ObjectMeta {
	l := map[string]string{labelBootstrapping: "rbac-defaults"}
	for k, v := range labels {
		l[k] = v
	}
	return metav1.ObjectMeta{Name: name, Labels: l, Annotations: map[string]string{annotationAuto: "true"}}
}

func aggregated(name, to string) *rbacv1.ClusterRole {
	var labels map[string]string
	if to != "" {
		labels = map[string]string{aggregateTo + to: "true"}
	}
	return &rbacv1.ClusterRole{ObjectMeta: defaultMeta(name, labels), AggregationRule: &rbacv1.AggregationRule{
		ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{aggregateTo + name: "true"}}}}}
}

func defaultClusterRole(name string, labels map[string]string, r ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{ObjectMeta: defaultMeta(name, labels), Rules: r}
}

// defaultClusterRoles are kube's user-facing roles (admin, edit and view
// aggregated from their system:aggregate-to-* parts) and the system roles
// every cluster binds.
func defaultClusterRoles() []*rbacv1.ClusterRole {
	getOnly := []string{"get"}
	return []*rbacv1.ClusterRole{
		defaultClusterRole("cluster-admin", nil, rules([]string{"*"}, "*", "*"), urls([]string{"*"}, "*")),
		aggregated("admin", ""), aggregated("edit", "admin"), aggregated("view", "edit"),
		defaultClusterRole("system:aggregate-to-admin", map[string]string{aggregateTo + "admin": "true"},
			rules([]string{"create"}, "authorization.k8s.io", "localsubjectaccessreviews"),
			rules(verbsReadWrite, rbacv1.GroupName, "rolebindings", "roles")),
		defaultClusterRole("system:aggregate-to-edit", map[string]string{aggregateTo + "edit": "true"}, editRules()...),
		defaultClusterRole("system:aggregate-to-view", map[string]string{aggregateTo + "view": "true"}, viewRules()...),
		defaultClusterRole("system:discovery", nil, urls(getOnly, "/livez", "/readyz", "/healthz", "/version", "/version/",
			"/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*")),
		defaultClusterRole("system:public-info-viewer", nil, urls(getOnly, "/livez", "/readyz", "/healthz", "/version", "/version/")),
		defaultClusterRole("system:basic-user", nil,
			rules([]string{"create"}, "authorization.k8s.io", "selfsubjectaccessreviews", "selfsubjectrulesreviews"),
			rules([]string{"create"}, "authentication.k8s.io", "selfsubjectreviews")),
		defaultClusterRole("system:service-account-issuer-discovery", nil, urls(getOnly,
			"/.well-known/openid-configuration", "/.well-known/openid-configuration/", "/openid/v1/jwks", "/openid/v1/jwks/")),
		defaultClusterRole("system:node-proxier", nil,
			rules([]string{"list", "watch"}, "", "services", "endpoints"),
			rules(verbsRead, "", "nodes"),
			rules([]string{"create", "patch", "update"}, "", "events"),
			rules([]string{"create", "patch", "update"}, "events.k8s.io", "events"),
			rules([]string{"list", "watch"}, "discovery.k8s.io", "endpointslices"),
			rules([]string{"list", "watch"}, "networking.k8s.io", "servicecidrs")),
		defaultClusterRole("system:node-bootstrapper", nil,
			rules([]string{"create", "get", "list", "watch"}, "certificates.k8s.io", "certificatesigningrequests")),
		defaultClusterRole(nodeClientRole, nil, rules([]string{"create"}, "certificates.k8s.io", "certificatesigningrequests/nodeclient")),
		defaultClusterRole(selfNodeClientRole, nil, rules([]string{"create"}, "certificates.k8s.io", "certificatesigningrequests/selfnodeclient")),
		defaultClusterRole(proxyClientRole, nil, rules([]string{"create"}, "certificates.k8s.io", "certificatesigningrequests/kubeproxyclient")),
	}
}

// The roles the CSR approver asks about (kube's bootstrap policy): whoever
// may create certificatesigningrequests/nodeclient gets a node client
// certificate approved; a node, its own renewal (selfnodeclient).
const (
	nodeClientRole     = "system:certificates.k8s.io:certificatesigningrequests:nodeclient"
	selfNodeClientRole = "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient"
	// proxyClientRole: nodeagent's own, for the joining node's proxy
	// identity (system:kube-proxy), which the approver approves for it.
	proxyClientRole = "nodeagent:certificatesigningrequests:kubeproxyclient"
)

// JoinTokenGroup is the group of the bootstrap tokens `nodeagent server`
// and `nodeagent token create` make (their auth-extra-groups), as kubeadm's
// system:bootstrappers:kubeadm:default-node-token.
const JoinTokenGroup = "system:bootstrappers:nodeagent:default-node-token"

func editRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		rules(verbsRead, "", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets", "services/proxy"),
		rules([]string{"impersonate"}, "", "serviceaccounts"),
		rules(verbsWrite, "", "pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"),
		rules([]string{"create"}, "", "pods/eviction"),
		rules(verbsWrite, "", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
			"services", "services/proxy", "persistentvolumeclaims", "configmaps", "secrets", "events"),
		rules([]string{"create"}, "", "serviceaccounts/token"),
		rules(verbsWrite, "apps", "statefulsets", "statefulsets/scale", "daemonsets", "deployments", "deployments/scale",
			"deployments/rollback", "replicasets", "replicasets/scale"),
		rules(verbsWrite, "autoscaling", "horizontalpodautoscalers"),
		rules(verbsWrite, "batch", "jobs", "cronjobs"),
		rules(verbsWrite, "policy", "poddisruptionbudgets"),
		rules(verbsWrite, "networking.k8s.io", "networkpolicies", "ingresses"),
		rules(verbsReadWrite, "coordination.k8s.io", "leases"),
	}
}

func viewRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		rules(verbsRead, "", "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
			"services", "services/status", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "configmaps"),
		rules(verbsRead, "", "limitranges", "resourcequotas", "bindings", "events", "pods/status", "resourcequotas/status",
			"namespaces/status", "replicationcontrollers/status", "pods/log"),
		rules(verbsRead, "", "namespaces"),
		rules(verbsRead, "discovery.k8s.io", "endpointslices"),
		rules(verbsRead, "apps", "controllerrevisions", "statefulsets", "statefulsets/status", "statefulsets/scale",
			"daemonsets", "daemonsets/status", "deployments", "deployments/status", "deployments/scale",
			"replicasets", "replicasets/status", "replicasets/scale"),
		rules(verbsRead, "autoscaling", "horizontalpodautoscalers", "horizontalpodautoscalers/status"),
		rules(verbsRead, "batch", "jobs", "cronjobs", "cronjobs/status", "jobs/status"),
		rules(verbsRead, "policy", "poddisruptionbudgets", "poddisruptionbudgets/status"),
		rules(verbsRead, "networking.k8s.io", "networkpolicies", "ingresses", "ingresses/status"),
	}
}

func defaultBinding(name string, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{ObjectMeta: defaultMeta(name, nil),
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name}, Subjects: subjects}
}

// namedBinding binds role under another name, as kubeadm's bindings.
func namedBinding(name, role string, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
	b := defaultBinding(role, subjects...)
	b.Name = name
	return b
}

func group(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: name}
}

// defaultClusterRoleBindings bind the system roles as kube does:
// cluster-admin to system:masters, the discovery and self-review roles to
// every authenticated user, the issuer discovery to service accounts and
// the proxier role to the user system:kube-proxy; and, as kubeadm does,
// the CSR roles of the join flow.
func defaultClusterRoleBindings() []*rbacv1.ClusterRoleBinding {
	return []*rbacv1.ClusterRoleBinding{
		defaultBinding("cluster-admin", group(auth.GroupMasters)),
		defaultBinding("system:discovery", group(auth.GroupAuthenticated)),
		defaultBinding("system:basic-user", group(auth.GroupAuthenticated)),
		defaultBinding("system:public-info-viewer", group(auth.GroupAuthenticated), group("system:unauthenticated")),
		defaultBinding("system:service-account-issuer-discovery", group(auth.GroupServiceAccounts)),
		defaultBinding("system:node-proxier", rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "system:kube-proxy"}),
		// The join flow, as kubeadm binds it: join tokens submit node
		// client CSRs, which are approved; nodes renew their own.
		namedBinding("nodeagent:kubelet-bootstrap", "system:node-bootstrapper", group(JoinTokenGroup)),
		namedBinding("nodeagent:node-autoapprove-bootstrap", nodeClientRole, group(JoinTokenGroup)),
		namedBinding("nodeagent:node-autoapprove-certificate-rotation", selfNodeClientRole, group(auth.GroupNodes)),
		namedBinding("nodeagent:kube-proxy-autoapprove", proxyClientRole, group(JoinTokenGroup), group(auth.GroupNodes)),
	}
}

// ensureDefaultRBAC creates the default roles and bindings that are
// missing and, as kube's bootstrap policy reconciliation (union mode),
// adds to existing ones what they lack (rules, aggregation selectors,
// subjects, labels and annotations) unless annotated
// rbac.authorization.kubernetes.io/autoupdate=false. Nothing is removed.
func (s *Server) ensureDefaultRBAC(ctx context.Context) error {
	for _, r := range defaultClusterRoles() {
		if err := s.reconcileDefault(ctx, auth.ResClusterRoles, r, reconcileClusterRole); err != nil {
			return err
		}
	}
	for _, b := range defaultClusterRoleBindings() {
		if err := s.reconcileDefault(ctx, auth.ResClusterRoleBindings, b, reconcileBinding); err != nil {
			return err
		}
	}
	return nil
}

// reconcileDefault creates want, or updates the stored object with merge
// (which reports whether it changed anything).
func (s *Server) reconcileDefault(ctx context.Context, plural string, want runtime.Object,
	merge func(cur, want runtime.Object) bool) error {
	res, _ := s.reg.lookup(rbacV1.Group, rbacV1.Version, plural)
	name := want.(metav1.Object).GetName()
	cur, err := s.store(res).Get(ctx, "", name)
	if storage.IsNotFound(err) {
		return s.ensureObject(ctx, want)
	}
	if err != nil {
		return fmt.Errorf("default %s %s: %w", plural, name, err)
	}
	if cur.(metav1.Object).GetAnnotations()[annotationAuto] == "false" {
		return nil
	}
	next := cur.DeepCopyObject()
	if !merge(next, want) {
		return nil
	}
	if _, err := s.store(res).Update(ctx, "", name, func(runtime.Object) (runtime.Object, error) { return next, nil }); err != nil {
		return fmt.Errorf("reconcile default %s %s: %w", plural, name, err)
	}
	return nil
}

func reconcileClusterRole(cur, want runtime.Object) bool {
	c, w := cur.(*rbacv1.ClusterRole), want.(*rbacv1.ClusterRole)
	changed := mergeMeta(&c.ObjectMeta, w.ObjectMeta)
	if missing := auth.MissingRules(c.Rules, w.Rules); len(missing) > 0 && w.AggregationRule == nil {
		c.Rules, changed = append(c.Rules, missing...), true
	}
	if w.AggregationRule != nil {
		if c.AggregationRule == nil {
			c.AggregationRule, changed = &rbacv1.AggregationRule{}, true
		}
		for _, sel := range w.AggregationRule.ClusterRoleSelectors {
			if !slices.ContainsFunc(c.AggregationRule.ClusterRoleSelectors, func(x metav1.LabelSelector) bool { return equality.Semantic.DeepEqual(x, sel) }) {
				c.AggregationRule.ClusterRoleSelectors, changed = append(c.AggregationRule.ClusterRoleSelectors, sel), true
			}
		}
	}
	return changed
}

func reconcileBinding(cur, want runtime.Object) bool {
	c, w := cur.(*rbacv1.ClusterRoleBinding), want.(*rbacv1.ClusterRoleBinding)
	changed := mergeMeta(&c.ObjectMeta, w.ObjectMeta)
	for _, sub := range w.Subjects {
		if !slices.Contains(c.Subjects, sub) {
			c.Subjects, changed = append(c.Subjects, sub), true
		}
	}
	return changed
}

// mergeMeta adds the labels and annotations of want that m lacks.
func mergeMeta(m *metav1.ObjectMeta, want metav1.ObjectMeta) bool {
	changed := false
	for k, v := range want.Labels {
		if _, ok := m.Labels[k]; !ok {
			if m.Labels == nil {
				m.Labels = map[string]string{}
			}
			m.Labels[k], changed = v, true
		}
	}
	for k, v := range want.Annotations {
		if _, ok := m.Annotations[k]; !ok {
			if m.Annotations == nil {
				m.Annotations = map[string]string{}
			}
			m.Annotations[k], changed = v, true
		}
	}
	return changed
}
