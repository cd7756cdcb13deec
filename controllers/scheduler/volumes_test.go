package scheduler

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nodeagent/nodeagent/api/localvolume"
	"github.com/nodeagent/nodeagent/controllers/persistentvolume"
)

func usingClaim(name string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: name}}})
	}
}

func testClaim(name, class string, mods ...func(*corev1.PersistentVolumeClaim)) *corev1.PersistentVolumeClaim {
	c := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name)},
		Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: &class, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
	for _, m := range mods {
		m(c)
	}
	return c
}

func boundClaim(pv string) func(*corev1.PersistentVolumeClaim) {
	return func(c *corev1.PersistentVolumeClaim) {
		c.Spec.VolumeName = pv
		c.Annotations = map[string]string{persistentvolume.AnnBindCompleted: "yes"}
	}
}

func testVolume(name, class, node string) *corev1.PersistentVolume {
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeSpec{StorageClassName: class, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeAvailable}}
	if node != "" {
		pv.Spec.NodeAffinity = localvolume.NodeAffinity(node)
	}
	return pv
}

func testClass(name, provisioner string, mode storagev1.VolumeBindingMode) *storagev1.StorageClass {
	return &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: provisioner, VolumeBindingMode: &mode}
}

func TestScheduleWithVolumes(t *testing.T) {
	classes := map[string]*storagev1.StorageClass{
		"wffc":   testClass("wffc", localvolume.Driver, storagev1.VolumeBindingWaitForFirstConsumer),
		"static": testClass("static", noProvisioner, storagev1.VolumeBindingWaitForFirstConsumer),
		"now":    testClass("now", localvolume.Driver, storagev1.VolumeBindingImmediate),
	}
	nodes := []*corev1.Node{node("a"), node("b")}
	tests := []struct {
		name    string
		claims  []*corev1.PersistentVolumeClaim
		volumes []*corev1.PersistentVolume
		want    string // the node, or the error
		waiting bool
		unbound int
	}{
		{"no claim", nil, nil, "a", false, 0},
		{"missing claim", []*corev1.PersistentVolumeClaim{}, nil, `0/2 nodes are available: persistentvolumeclaim "data" not found.`, false, 0},
		{"bound to a volume on b", []*corev1.PersistentVolumeClaim{testClaim("data", "", boundClaim("pv-b"))},
			[]*corev1.PersistentVolume{testVolume("pv-b", "", "b")}, "b", false, 0},
		{"bound to a missing volume", []*corev1.PersistentVolumeClaim{testClaim("data", "", boundClaim("gone"))}, nil,
			"0/2 nodes are available: 2 " + reasonPVNotExist + ".", false, 0},
		{"unbound immediate", []*corev1.PersistentVolumeClaim{testClaim("data", "now")}, nil,
			"0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims.", false, 0},
		{"unbound, provisioned anywhere", []*corev1.PersistentVolumeClaim{testClaim("data", "wffc")}, nil, "a", false, 1},
		{"unbound, a static volume on b", []*corev1.PersistentVolumeClaim{testClaim("data", "static")},
			[]*corev1.PersistentVolume{testVolume("pv-b", "static", "b")}, "b", false, 1},
		{"unbound, no static volume", []*corev1.PersistentVolumeClaim{testClaim("data", "static")}, nil,
			"0/2 nodes are available: 2 " + reasonBindConflict + ".", false, 1},
		{"provisioning for a selected node", []*corev1.PersistentVolumeClaim{testClaim("data", "wffc", func(c *corev1.PersistentVolumeClaim) {
			c.Annotations = map[string]string{persistentvolume.AnnSelectedNode: "b"}
		})}, nil, "", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pod("web", "", "")
			if tt.claims != nil || tt.name == "missing claim" {
				usingClaim("data")(p)
			}
			st := VolumeState{Claims: map[string]*corev1.PersistentVolumeClaim{}, Volumes: tt.volumes, Classes: classes}
			for _, c := range tt.claims {
				st.Claims[c.Name] = c
			}
			vols := classifyVolumes(p, st)
			if vols.waiting != tt.waiting || len(vols.unbound) != tt.unbound {
				t.Fatalf("waiting %v, %d unbound", vols.waiting, len(vols.unbound))
			}
			if vols.waiting {
				return
			}
			got := ""
			if vols.preFilter != "" {
				got = (&FitError{NumAllNodes: len(nodes), PreFilter: vols.preFilter}).Error()
			} else if n, _, err := schedule(p, nodes, nil, vols.check); err != nil {
				got = err.Error()
			} else {
				got = n
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// A pod with a WaitForFirstConsumer claim: the scheduler picks the node,
// marks the claim for provisioning there, and binds the pod only once the
// claim is bound.
func TestControllerWaitsForFirstConsumerClaims(t *testing.T) {
	class := testClass(localvolume.DefaultClass, localvolume.Driver, storagev1.VolumeBindingWaitForFirstConsumer)
	h := start(t, true, nil, node("a"), class, testClaim("data", localvolume.DefaultClass), pod("web", "", "", usingClaim("data")))
	ctx := context.Background()
	claims := h.client.CoreV1().PersistentVolumeClaims("default")
	waitFor(t, "the claim marked for node a", func() bool {
		c, err := claims.Get(ctx, "data", metav1.GetOptions{})
		return err == nil && c.Annotations[persistentvolume.AnnSelectedNode] == "a"
	})
	if b := h.bindings(); len(b) != 0 {
		t.Fatalf("pod bound before its claim: %v", b)
	}
	// What the volume controller does: a volume on a, both bound.
	pv := testVolume("pvc-uid-data", localvolume.DefaultClass, "a")
	if _, err := h.client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c, _ := claims.Get(ctx, "data", metav1.GetOptions{})
	boundClaim(pv.Name)(c)
	if _, err := claims.Update(ctx, c, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the pod bound", func() bool { return len(h.bindings()) == 1 })
	if b := h.bindings(); b[0] != "web->a" {
		t.Errorf("bindings %v", b)
	}
}
