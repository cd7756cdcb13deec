package admission

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// fakeNodes is a store of Nodes by name.
type fakeNodes map[string]*corev1.Node

func (f fakeNodes) Node(_ context.Context, name string) (*corev1.Node, error) {
	if n, ok := f[name]; ok {
		return n, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "nodes"}, name)
}

var nodes = fakeNodes{"n1": {ObjectMeta: metav1.ObjectMeta{Name: "n1", UID: "uid-n1"}}}

// mirror is a mirror pod of n1 as the agent creates it.
func mirror(change ...func(*corev1.Pod)) *corev1.Pod {
	yes := true
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "static-n1", Namespace: "kube-system",
		Annotations:     map[string]string{"kubernetes.io/config.mirror": "h"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: "n1", UID: "uid-n1", Controller: &yes}}},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "i"}}}}
	for _, c := range change {
		c(p)
	}
	return p
}

func podCreate(p *corev1.Pod) Attributes {
	return Attributes{Operation: Create, Resource: podsResource, Namespace: p.Namespace, Object: p}
}

// check runs NodeRestriction (after the mirror pod rules, as the server
// does) for n1 and compares the whole error text ("" for allowed).
func check(t *testing.T, name string, a Attributes, want string) {
	t.Helper()
	err := MirrorPod(a)
	if err == nil {
		err = NodeRestriction(context.Background(), "n1", a, nodes)
	}
	got := ""
	if err != nil {
		got = err.Error()
		if !apierrors.IsForbidden(err) && !apierrors.IsNotFound(err) {
			t.Errorf("%s: not a 403 or 404: %v", name, err)
		}
	}
	if got != want {
		t.Errorf("%s:\n got  %s\n want %s", name, got, want)
	}
}

func TestNodeCreatesOnlyItsOwnMirrorPods(t *testing.T) {
	no, yes := false, true
	forbid := `pods "static-n1" is forbidden: `
	cases := []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{"mirror pod", mirror(), ""},
		{"not a mirror pod", mirror(func(p *corev1.Pod) { p.Annotations = nil }),
			forbid + `pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods`},
		{"another node's", mirror(func(p *corev1.Pod) { p.Spec.NodeName = "n2" }),
			forbid + `node "n1" can only create pods with spec.nodeName set to itself`},
		{"unbound", mirror(func(p *corev1.Pod) { p.Spec.NodeName = "" }),
			forbid + `node "n1" can only create pods with spec.nodeName set to itself`},
		{"no owner", mirror(func(p *corev1.Pod) { p.OwnerReferences = nil }),
			forbid + `node "n1" can only create pods with an owner reference set to itself`},
		{"two owners", mirror(func(p *corev1.Pod) { p.OwnerReferences = append(p.OwnerReferences, p.OwnerReferences[0]) }),
			forbid + `node "n1" can only create pods with a single owner reference set to itself`},
		{"owned by n2", mirror(func(p *corev1.Pod) { p.OwnerReferences[0].Name = "n2" }),
			forbid + `node "n1" can only create pods with an owner reference set to itself`},
		{"owned by a v2 Node", mirror(func(p *corev1.Pod) { p.OwnerReferences[0].APIVersion = "v2" }),
			forbid + `node "n1" can only create pods with an owner reference set to itself`},
		{"owned by a Pod", mirror(func(p *corev1.Pod) { p.OwnerReferences[0].Kind = "Pod" }),
			forbid + `node "n1" can only create pods with an owner reference set to itself`},
		{"not controller", mirror(func(p *corev1.Pod) { p.OwnerReferences[0].Controller = &no }),
			forbid + `node "n1" can only create pods with a controller owner reference set to itself`},
		{"blocks owner deletion", mirror(func(p *corev1.Pod) { p.OwnerReferences[0].BlockOwnerDeletion = &yes }),
			forbid + `node "n1" must not set blockOwnerDeletion on an owner reference`},
		{"wrong node uid", mirror(func(p *corev1.Pod) { p.OwnerReferences[0].UID = types.UID("old") }),
			forbid + `node n1 UID mismatch: expected old got uid-n1`},
		{"service account", mirror(func(p *corev1.Pod) { p.Spec.ServiceAccountName = "default" }),
			forbid + `a mirror pod may not reference service accounts`},
		{"secret volume", mirror(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}}}
		}), forbid + `a mirror pod may not reference secrets`},
		{"secret env", mirror(func(p *corev1.Pod) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "e", ValueFrom: &corev1.EnvVarSource{
				SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k"}}}}
		}), forbid + `a mirror pod may not reference secrets`},
		{"token projection", mirror(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "t", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
				Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "t"}}}}}}}
		}), forbid + `a mirror pod may not use ServiceAccountToken volume projections`},
		{"configmap", mirror(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "c", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}}}
		}), forbid + `node "n1" can not create pods that reference configmaps`},
		{"claim", mirror(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "c", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}
		}), forbid + `node "n1" can not create pods that reference persistentvolumeclaims`},
		{"ephemeral volume", mirror(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "e", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}}}
		}), forbid + `node "n1" can not create pods that reference persistentvolumeclaims (via ephemeral volumes)`},
		{"trust bundle", mirror(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "b", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
				Sources: []corev1.VolumeProjection{{ClusterTrustBundle: &corev1.ClusterTrustBundleProjection{Path: "b"}}}}}}}
		}), forbid + `node "n1" can not create pods that reference clustertrustbundles`},
		{"hostPath and emptyDir", mirror(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/x"}}},
				{Name: "e", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
		}), ""},
	}
	for _, c := range cases {
		check(t, c.name, podCreate(c.pod), c.want)
	}
	a := podCreate(mirror())
	if err := NodeRestriction(context.Background(), "n1", a, fakeNodes{}); !apierrors.IsNotFound(err) {
		t.Errorf("mirror pod before the Node exists: %v, want 404", err)
	}
}

func TestNodeDeletesAndUpdatesStatusOfItsPodsOnly(t *testing.T) {
	bound := func(node string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", Labels: map[string]string{"app": "x"}},
			Spec: corev1.PodSpec{NodeName: node}}
	}
	relabelled := bound("n1")
	relabelled.Labels = map[string]string{"app": "y"}
	del := func(p *corev1.Pod) Attributes {
		return Attributes{Operation: Delete, Resource: podsResource, Namespace: "default", Name: "p", Old: p}
	}
	status := func(p, old *corev1.Pod) Attributes {
		return Attributes{Operation: Update, Resource: podsResource, Subresource: "status", Namespace: "default", Name: "p", Object: p, Old: old}
	}
	forbid := `pods "p" is forbidden: `
	check(t, "delete own", del(bound("n1")), "")
	check(t, "delete other's", del(bound("n2")), forbid+`node "n1" can only delete pods with spec.nodeName set to itself`)
	check(t, "delete unbound", del(bound("")), forbid+`node "n1" can only delete pods with spec.nodeName set to itself`)
	check(t, "status of own", status(bound("n1"), bound("n1")), "")
	check(t, "status of other's", status(bound("n1"), bound("n2")),
		forbid+`node "n1" can only update pod status for pods with spec.nodeName set to itself`)
	check(t, "labels through status", status(relabelled, bound("n1")), forbid+`node "n1" cannot update labels through pod status`)
	update := Attributes{Operation: Update, Resource: podsResource, Namespace: "default", Name: "p", Object: bound("n1"), Old: bound("n1")}
	check(t, "update of a pod", update, forbid+`unexpected operation "UPDATE", node "n1" can only create and delete mirror pods`)
	binding := Attributes{Operation: Create, Resource: podsResource, Subresource: "binding", Namespace: "default", Name: "p"}
	check(t, "binding", binding, forbid+`unexpected pod subresource "binding", only 'status' and 'eviction' are allowed`)
}

func TestNodeWritesOnlyItsOwnNodeAndLease(t *testing.T) {
	node := func(name string, labels map[string]string, taints ...corev1.Taint) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Spec: corev1.NodeSpec{Taints: taints}}
	}
	create := func(n *corev1.Node) Attributes {
		return Attributes{Operation: Create, Resource: nodesResource, Object: n}
	}
	update := func(sub string, n, old *corev1.Node) Attributes {
		return Attributes{Operation: Update, Resource: nodesResource, Subresource: sub, Name: old.Name, Object: n, Old: old}
	}
	kubelet := map[string]string{"kubernetes.io/hostname": "n1", "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
		"node.kubernetes.io/instance-type": "lab", "kubelet.kubernetes.io/x": "y", "nodeagent.io/host": "h", "plain": "1"}
	withRole := map[string]string{"node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "n1"}
	taint := corev1.Taint{Key: "k", Effect: corev1.TaintEffectNoSchedule}
	check(t, "create self with kubelet labels", create(node("n1", kubelet)), "")
	check(t, "create n2", create(node("n2", nil)), `nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"`)
	check(t, "create with role label", create(node("n1", withRole)),
		`nodes "n1" is forbidden: node "n1" is not allowed to set the following labels: node-role.kubernetes.io/control-plane`)
	check(t, "create with restricted labels", create(node("n1", map[string]string{"node-restriction.kubernetes.io/pool": "a",
		"team.node-restriction.kubernetes.io/x": "b", "k8s.io/other": "c"})),
		`nodes "n1" is forbidden: node "n1" is not allowed to set the following labels: k8s.io/other, node-restriction.kubernetes.io/pool, team.node-restriction.kubernetes.io/x`)
	check(t, "update own labels", update("", node("n1", kubelet), node("n1", nil)), "")
	check(t, "add role label", update("", node("n1", withRole), node("n1", nil)),
		`nodes "n1" is forbidden: is not allowed to modify labels: node-role.kubernetes.io/control-plane`)
	check(t, "remove role label", update("status", node("n1", nil), node("n1", withRole)),
		`nodes "n1" is forbidden: is not allowed to modify labels: node-role.kubernetes.io/control-plane`)
	check(t, "keep role label", update("", node("n1", withRole), node("n1", withRole)), "")
	check(t, "remove taint", update("", node("n1", nil), node("n1", nil, taint)), `nodes "n1" is forbidden: node "n1" is not allowed to modify taints`)
	check(t, "add taint through status", update("status", node("n1", nil, taint), node("n1", nil)),
		`nodes "n1" is forbidden: node "n1" is not allowed to modify taints`)
	check(t, "update n2", update("status", node("n2", nil), node("n2", nil)), `nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"`)

	lease := func(ns, name string) Attributes {
		return Attributes{Operation: Create, Resource: leasesResource, Namespace: ns, Object: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}}}
	}
	check(t, "own lease", lease("kube-node-lease", "n1"), "")
	check(t, "n2's lease", lease("kube-node-lease", "n2"),
		`leases.coordination.k8s.io "n2" is forbidden: can only access node lease with the same name as the requesting node`)
	check(t, "lease elsewhere", lease("default", "n1"),
		`leases.coordination.k8s.io "n1" is forbidden: can only access leases in the "kube-node-lease" system namespace`)
}

func TestNodeUpdatesOnlyClaimStatus(t *testing.T) {
	claim := func(labels map[string]string, phase corev1.PersistentVolumeClaimPhase, capacity string) *corev1.PersistentVolumeClaim {
		c := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "default", Labels: labels, ResourceVersion: "5"},
			Status: corev1.PersistentVolumeClaimStatus{Phase: phase}}
		if capacity != "" {
			c.Status.Conditions = []corev1.PersistentVolumeClaimCondition{{Type: corev1.PersistentVolumeClaimResizing}}
		}
		return c
	}
	status := func(c, old *corev1.PersistentVolumeClaim) Attributes {
		return Attributes{Operation: Update, Resource: claimsResource, Subresource: "status", Namespace: "default", Name: "c", Object: c, Old: old}
	}
	check(t, "resize conditions", status(claim(nil, corev1.ClaimBound, "1Gi"), claim(nil, corev1.ClaimBound, "")), "")
	a := status(claim(map[string]string{"x": "y"}, corev1.ClaimBound, ""), claim(nil, corev1.ClaimBound, ""))
	if err := NodeRestriction(context.Background(), "n1", a, nodes); !apierrors.IsForbidden(err) {
		t.Errorf("claim labels through status: %v, want 403", err)
	}
	check(t, "claim itself", Attributes{Operation: Update, Resource: claimsResource, Namespace: "default", Name: "c"},
		`persistentvolumeclaims "c" is forbidden: may only update PVC status`)
}

// Anyone's mirror pod is held to the ServiceAccount admission's rules; a
// pod that is not a mirror pod is not.
func TestMirrorPodRulesForEveryone(t *testing.T) {
	sa := mirror(func(p *corev1.Pod) { p.Spec.ServiceAccountName = "default" })
	if err := MirrorPod(podCreate(sa)); err == nil || err.Error() != `pods "static-n1" is forbidden: a mirror pod may not reference service accounts` {
		t.Errorf("admin's mirror pod with a service account: %v", err)
	}
	plain := mirror(func(p *corev1.Pod) { p.Annotations = nil; p.Spec.ServiceAccountName = "default" })
	if err := MirrorPod(podCreate(plain)); err != nil {
		t.Errorf("a pod that is not a mirror pod: %v", err)
	}
}
