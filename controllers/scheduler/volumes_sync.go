package scheduler

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/nodeagent/nodeagent/api/podrefs"
	"github.com/nodeagent/nodeagent/controllers/persistentvolume"
)

// volumeListers read what the VolumeBinding steps need.
type volumeListers struct {
	claims  corelisters.PersistentVolumeClaimLister
	volumes corelisters.PersistentVolumeLister
	classes storagelisters.StorageClassLister
}

// watchVolumes adds the claim, volume and class informers: any change of
// them may let a pending pod go (a claim bound, a volume freed).
func (c *Controller) watchVolumes(factory informers.SharedInformerFactory) volumeListers {
	claims, volumes := factory.Core().V1().PersistentVolumeClaims(), factory.Core().V1().PersistentVolumes()
	classes := factory.Storage().V1().StorageClasses()
	requeue := cache.ResourceEventHandlerFuncs{AddFunc: func(any) { c.requeueAll() },
		UpdateFunc: func(any, any) { c.requeueAll() }, DeleteFunc: func(any) { c.requeueAll() }}
	for _, inf := range []cache.SharedIndexInformer{claims.Informer(), volumes.Informer(), classes.Informer()} {
		inf.AddEventHandler(requeue)
		c.synced = append(c.synced, inf.HasSynced)
	}
	return volumeListers{claims: claims.Lister(), volumes: volumes.Lister(), classes: classes.Lister()}
}

// volumeState reads the pod's claims, every volume and every class.
func (c *Controller) volumeState(pod *corev1.Pod) (VolumeState, error) {
	st := VolumeState{Claims: map[string]*corev1.PersistentVolumeClaim{}, Classes: map[string]*storagev1.StorageClass{}}
	names := podrefs.Of(pod).Claims
	if len(names) == 0 {
		return st, nil
	}
	for _, name := range names {
		if claim, err := c.volumes.claims.PersistentVolumeClaims(pod.Namespace).Get(name); err == nil {
			st.Claims[name] = claim
		}
	}
	var err error
	if st.Volumes, err = c.volumes.volumes.List(labels.Everything()); err != nil {
		return st, fmt.Errorf("list volumes: %w", err)
	}
	classes, err := c.volumes.classes.List(labels.Everything())
	if err != nil {
		return st, fmt.Errorf("list storage classes: %w", err)
	}
	for _, class := range classes {
		st.Classes[class.Name] = class
	}
	return st, nil
}

// prebind is kube's VolumeBinding PreBind for the unbound claims: a free
// volume found on node gets the claim in its claimRef; a claim with none
// is marked for provisioning on node (volume.kubernetes.io/selected-node).
// The volume controller finishes both; the pod is bound once its claims
// are.
func (c *Controller) prebind(ctx context.Context, pod *corev1.Pod, vols podVolumes, node *corev1.Node) error {
	place, ok := vols.placeUnbound(node)
	if !ok {
		return fmt.Errorf("pod %s/%s: the volumes no longer fit node %s", pod.Namespace, pod.Name, node.Name)
	}
	for claim, pv := range place {
		var err error
		if pv != nil {
			err = c.prebindVolume(ctx, claim, pv)
		} else {
			err = c.selectNode(ctx, claim, node.Name)
		}
		if err != nil {
			return err
		}
	}
	c.log.Info("waiting for volumes before binding", "pod", pod.Namespace+"/"+pod.Name, "node", node.Name, "claims", len(place))
	return nil
}

func (c *Controller) prebindVolume(ctx context.Context, claim *corev1.PersistentVolumeClaim, pv *corev1.PersistentVolume) error {
	if persistentvolume.BoundToClaim(pv, claim) && pv.Spec.ClaimRef.UID == claim.UID {
		return nil
	}
	out := pv.DeepCopy()
	if out.Annotations == nil {
		out.Annotations = map[string]string{}
	}
	out.Annotations[persistentvolume.AnnBoundByController] = "yes"
	out.Spec.ClaimRef = &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: claim.Namespace,
		Name: claim.Name, UID: claim.UID, ResourceVersion: claim.ResourceVersion}
	if _, err := c.client.CoreV1().PersistentVolumes().Update(ctx, out, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("bind volume %s to claim %s/%s: %w", pv.Name, claim.Namespace, claim.Name, err)
	}
	return nil
}

func (c *Controller) selectNode(ctx context.Context, claim *corev1.PersistentVolumeClaim, node string) error {
	out := claim.DeepCopy()
	if out.Annotations == nil {
		out.Annotations = map[string]string{}
	}
	out.Annotations[persistentvolume.AnnSelectedNode] = node
	if _, err := c.client.CoreV1().PersistentVolumeClaims(claim.Namespace).Update(ctx, out, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("select node %s for claim %s/%s: %w", node, claim.Namespace, claim.Name, err)
	}
	return nil
}
