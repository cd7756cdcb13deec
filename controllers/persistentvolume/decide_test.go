package persistentvolume

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"

	"github.com/nodeagent/nodeagent/api/localvolume"
)

func selected(node string) func(*corev1.PersistentVolumeClaim) {
	return func(c *corev1.PersistentVolumeClaim) {
		c.Annotations = map[string]string{AnnSelectedNode: node}
	}
}

func boundTo(pv string) func(*corev1.PersistentVolumeClaim) {
	return func(c *corev1.PersistentVolumeClaim) { c.Spec.VolumeName = pv }
}

// got summarizes a claim plan: "bind X", "provision X on N", or the phase,
// and the event.
func (p claimPlan) String() string {
	var parts []string
	switch {
	case p.bind != nil:
		parts = append(parts, "bind "+p.bind.Name)
	case p.provision != nil:
		node, _ := localvolume.Node(p.provision)
		parts = append(parts, "provision "+p.provision.Name+" on "+node)
	case p.phase != "":
		parts = append(parts, string(p.phase))
	}
	if p.unselectNode {
		parts = append(parts, "unselect")
	}
	if p.event != nil {
		parts = append(parts, p.event.reason+": "+p.event.message)
	}
	return strings.Join(parts, "; ")
}

func TestDecideClaim(t *testing.T) {
	local := storageClass(localvolume.DefaultClass, localvolume.Driver, storagev1.VolumeBindingWaitForFirstConsumer)
	immediate := storageClass("now", localvolume.Driver, storagev1.VolumeBindingImmediate)
	external := storageClass("ebs", "ebs.csi.aws.com", storagev1.VolumeBindingImmediate)
	class := ptr(localvolume.DefaultClass)
	nodes := func(n string) bool { return n == "a" }
	wffc := claim("data", "1Gi", class)
	prebound := claim("data", "1Gi", ptr(""), boundTo("pv-1"))
	tests := []struct {
		name    string
		claim   *corev1.PersistentVolumeClaim
		class   *storagev1.StorageClass
		volumes []*corev1.PersistentVolume
		pods    []string
		want    string
	}{
		{"a static volume", claim("data", "1Gi", ptr("")), nil, []*corev1.PersistentVolume{volume("pv-1", "1Gi")}, nil, "bind pv-1"},
		{"nothing and no class", claim("data", "1Gi", ptr("")), nil, nil, nil,
			"Pending; FailedBinding: no persistent volumes available for this claim and no storage class is set"},
		{"WaitForFirstConsumer, no pod", wffc, local, []*corev1.PersistentVolume{volume("pv-1", "1Gi", classed(*class))}, nil,
			"Pending; WaitForFirstConsumer: waiting for first consumer to be created before binding"},
		{"WaitForFirstConsumer, a pod waits", wffc, local, nil, []string{"web-0"},
			"Pending; WaitForPodScheduled: waiting for pod web-0 to be scheduled"},
		{"WaitForFirstConsumer, pods wait", wffc, local, nil, []string{"a", "b"},
			"Pending; WaitForPodScheduled: waiting for pods a,b to be scheduled"},
		{"the node is selected", claim("data", "1Gi", class, selected("a")), local, nil, nil, "provision pvc-uid-data on a"},
		{"the selected node is gone", claim("data", "1Gi", class, selected("z")), local, nil, nil,
			`Pending; unselect; ProvisioningFailed: failed to get target node: node "z" not found`},
		{"Immediate without a topology", claim("data", "1Gi", ptr("now")), immediate, nil, nil,
			"Pending; ProvisioningFailed: " + errNoNode.Error()},
		{"no such class", claim("data", "1Gi", ptr("gold")), nil, nil, nil,
			`Pending; ProvisioningFailed: storageclass.storage.k8s.io "gold" not found`},
		{"another provisioner", claim("data", "1Gi", ptr("ebs")), external, nil, nil,
			"Pending; ExternalProvisioning: Waiting for a volume to be created either by the external provisioner 'ebs.csi.aws.com' " +
				"or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered."},
		{"provisioned, pre-bound", claim("data", "1Gi", class, selected("a")), local,
			[]*corev1.PersistentVolume{volume("pvc-uid-data", "1Gi", classed(*class), claimedBy(wffc, true), phase(corev1.VolumePending))}, nil, "bind pvc-uid-data"},
		{"pre-bound claim, free volume", prebound, nil, []*corev1.PersistentVolume{volume("pv-1", "1Gi")}, nil, "bind pv-1"},
		{"pre-bound claim, volume missing", prebound, nil, nil, nil, "Pending"},
		{"bound claim, volume gone", claim("data", "1Gi", ptr(""), boundTo("pv-1"), func(c *corev1.PersistentVolumeClaim) {
			c.Status.Phase = corev1.ClaimBound
		}), nil, nil, nil, "Lost; ClaimLost: Bound claim has lost its PersistentVolume. Data on the volume is lost!"},
		{"pre-bound to a volume someone else has", prebound, nil, []*corev1.PersistentVolume{volume("pv-1", "1Gi", claimedBy(claim("x", "1Gi", nil), true))}, nil,
			`Pending; FailedBinding: volume "pv-1" already bound to a different claim.`},
		{"misbound", claim("data", "1Gi", ptr(""), boundTo("pv-1"), func(c *corev1.PersistentVolumeClaim) {
			c.Annotations = map[string]string{AnnBoundByController: "yes"}
		}), nil, []*corev1.PersistentVolume{volume("pv-1", "1Gi", claimedBy(claim("x", "1Gi", nil), true))}, nil,
			"Lost; ClaimMisbound: Two claims are bound to the same volume, this one is bound incorrectly"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decideClaim(claimInput{claim: tt.claim, class: tt.class, volumes: tt.volumes, waitingPods: tt.pods, nodeExists: nodes})
			if got.String() != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestNewVolumeIsTheAgreedShape(t *testing.T) {
	c := claim("data", "100M", ptr("local"), func(c *corev1.PersistentVolumeClaim) {
		c.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{rwo, rox}
	})
	class := storageClass("local", localvolume.Driver, storagev1.VolumeBindingWaitForFirstConsumer)
	class.Parameters = map[string]string{localvolume.ParamFSType: "xfs"}
	class.MountOptions = []string{"noatime"}
	pv, err := NewVolume(c, class, "a")
	if err != nil {
		t.Fatal(err)
	}
	csi := pv.Spec.CSI
	// 100M = 100,000,000 bytes, rounded up to 96 MiB.
	if pv.Name != "pvc-uid-data" || csi.Driver != localvolume.Driver || csi.VolumeHandle != pv.Name || csi.FSType != "xfs" ||
		csi.VolumeAttributes["backing"] != "file" || csi.VolumeAttributes["size"] != "100663296" || localvolume.Size(pv) != 96<<20 {
		t.Errorf("source %+v", csi)
	}
	if n, ok := localvolume.Node(pv); !ok || n != "a" {
		t.Errorf("node affinity %+v", pv.Spec.NodeAffinity)
	}
	capacity := pv.Spec.Capacity[corev1.ResourceStorage]
	if capacity.String() != "96Mi" || pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete ||
		pv.Spec.StorageClassName != "local" || pv.Spec.MountOptions[0] != "noatime" || len(pv.Spec.AccessModes) != 2 ||
		pv.Spec.ClaimRef.UID != c.UID || pv.Annotations[AnnProvisionedBy] != localvolume.Driver {
		t.Errorf("spec %+v", pv.Spec)
	}
	class.Parameters[localvolume.ParamFSType] = "btrfs"
	if _, err := NewVolume(c, class, "a"); err == nil || !strings.Contains(err.Error(), `fsType "btrfs" is not supported`) {
		t.Errorf("btrfs: %v", err)
	}
	c.Spec.VolumeMode = ptr(corev1.PersistentVolumeBlock)
	delete(class.Parameters, localvolume.ParamFSType)
	if pv, _ := NewVolume(c, class, "a"); pv.Spec.CSI.FSType != "" {
		t.Errorf("block volume with fsType %q", pv.Spec.CSI.FSType)
	}
}

func TestDecideVolume(t *testing.T) {
	c := claim("data", "1Gi", ptr(""), boundTo("pv-1"))
	pending := claim("data", "1Gi", ptr(""))
	elsewhere := claim("data", "1Gi", ptr(""), boundTo("pv-2"))
	ours := func(pv *corev1.PersistentVolume) {
		pv.Annotations = map[string]string{AnnProvisionedBy: localvolume.Driver}
		pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimDelete
	}
	policy := func(p corev1.PersistentVolumeReclaimPolicy) func(*corev1.PersistentVolume) {
		return func(pv *corev1.PersistentVolume) { pv.Spec.PersistentVolumeReclaimPolicy = p }
	}
	tests := []struct {
		name  string
		pv    *corev1.PersistentVolume
		claim *corev1.PersistentVolumeClaim
		want  volumePlan
	}{
		{"free", volume("pv-1", "1Gi", phase(corev1.VolumePending)), nil, volumePlan{phase: corev1.VolumeAvailable}},
		{"pre-bound by name", volume("pv-1", "1Gi", claimedBy(c, false)), pending, volumePlan{phase: corev1.VolumeAvailable, syncClaim: true}},
		{"bound", volume("pv-1", "1Gi", claimedBy(c, true)), c, volumePlan{phase: corev1.VolumeBound}},
		{"the claim is not bound yet", volume("pv-1", "1Gi", claimedBy(c, true)), pending, volumePlan{syncClaim: true}},
		{"the claim took another volume", volume("pv-1", "1Gi", claimedBy(c, true)), elsewhere, volumePlan{phase: corev1.VolumeAvailable, unbind: true}},
		{"released, Retain", volume("pv-1", "1Gi", claimedBy(c, true)), nil, volumePlan{phase: corev1.VolumeReleased}},
		{"released, a new claim of the name", volume("pv-1", "1Gi", claimedBy(c, true)), claim("data", "1Gi", nil, func(c *corev1.PersistentVolumeClaim) { c.UID = "new" }),
			volumePlan{phase: corev1.VolumeReleased}},
		{"released, Delete, provisioned here", volume("pv-1", "1Gi", claimedBy(c, true), ours), nil, volumePlan{phase: corev1.VolumeReleased, delete: true}},
		{"released, Delete, not ours", volume("pv-1", "1Gi", claimedBy(c, true), policy(corev1.PersistentVolumeReclaimDelete)), nil,
			volumePlan{phase: corev1.VolumeFailed, message: `Error getting deleter volume plugin for volume "pv-1": no deletable volume plugin matched`,
				event: warning(ReasonVolumeFailedDelete, `Error getting deleter volume plugin for volume "pv-1": no deletable volume plugin matched`)}},
		{"released, Recycle", volume("pv-1", "1Gi", claimedBy(c, true), policy(corev1.PersistentVolumeReclaimRecycle)), nil,
			volumePlan{phase: corev1.VolumeFailed, message: "No recycler plugin found for the volume!", event: warning(ReasonVolumeFailedRecycle, "No recycler plugin found for the volume!")}},
		{"failed stays failed", volume("pv-1", "1Gi", claimedBy(c, true), phase(corev1.VolumeFailed)), nil, volumePlan{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decideVolume(tt.pv, tt.claim)
			if got.phase != tt.want.phase || got.message != tt.want.message || got.unbind != tt.want.unbind ||
				got.delete != tt.want.delete || got.syncClaim != tt.want.syncClaim || (got.event == nil) != (tt.want.event == nil) ||
				(got.event != nil && *got.event != *tt.want.event) {
				t.Errorf("got  %+v %+v\nwant %+v %+v", got, got.event, tt.want, tt.want.event)
			}
		})
	}
}
