package persistentvolume

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// ClaimClass is the class a claim asks for: the beta annotation, else
// spec.storageClassName, else "".
func ClaimClass(c *corev1.PersistentVolumeClaim) string {
	if class, ok := c.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		return class
	}
	if c.Spec.StorageClassName != nil {
		return *c.Spec.StorageClassName
	}
	return ""
}

// VolumeClass is the class of a volume: the beta annotation, else
// spec.storageClassName.
func VolumeClass(pv *corev1.PersistentVolume) string {
	if class, ok := pv.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		return class
	}
	return pv.Spec.StorageClassName
}

// BoundToClaim reports whether the volume's claimRef names the claim: same
// namespace and name, and the claim's UID unless the ref has none (a volume
// an admin pre-bound by name).
func BoundToClaim(pv *corev1.PersistentVolume, c *corev1.PersistentVolumeClaim) bool {
	ref := pv.Spec.ClaimRef
	return ref != nil && ref.Namespace == c.Namespace && ref.Name == c.Name && (ref.UID == "" || ref.UID == c.UID)
}

// NodeAffinityMatches reports whether a node with these labels and name
// may use the volume: no required node affinity, or one of its terms
// matches (kube's CheckNodeAffinity; a term with nothing in it matches
// nothing).
func NodeAffinityMatches(pv *corev1.PersistentVolume, node *corev1.Node) bool {
	if pv.Spec.NodeAffinity == nil || pv.Spec.NodeAffinity.Required == nil {
		return true
	}
	for _, term := range pv.Spec.NodeAffinity.Required.NodeSelectorTerms {
		if termMatches(term, node) {
			return true
		}
	}
	return false
}

func termMatches(term corev1.NodeSelectorTerm, node *corev1.Node) bool {
	if len(term.MatchExpressions) == 0 && len(term.MatchFields) == 0 {
		return false
	}
	for _, e := range term.MatchExpressions {
		if !requirementMatches(e, labels.Set(node.Labels)) {
			return false
		}
	}
	for _, f := range term.MatchFields {
		in := slices.Contains(f.Values, node.Name)
		if f.Key != metav1.ObjectNameField || !((f.Operator == corev1.NodeSelectorOpIn && in) || (f.Operator == corev1.NodeSelectorOpNotIn && !in)) {
			return false
		}
	}
	return true
}

func requirementMatches(e corev1.NodeSelectorRequirement, set labels.Set) bool {
	op, ok := map[corev1.NodeSelectorOperator]selection.Operator{
		corev1.NodeSelectorOpIn: selection.In, corev1.NodeSelectorOpNotIn: selection.NotIn,
		corev1.NodeSelectorOpExists: selection.Exists, corev1.NodeSelectorOpDoesNotExist: selection.DoesNotExist,
		corev1.NodeSelectorOpGt: selection.GreaterThan, corev1.NodeSelectorOpLt: selection.LessThan,
	}[e.Operator]
	if !ok {
		return false
	}
	req, err := labels.NewRequirement(e.Key, op, e.Values)
	return err == nil && req.Matches(set)
}

// accessModesContain: the volume offers every mode the claim asks for.
func accessModesContain(have, want []corev1.PersistentVolumeAccessMode) bool {
	for _, m := range want {
		if !slices.Contains(have, m) {
			return false
		}
	}
	return true
}

func volumeMode(m *corev1.PersistentVolumeMode) corev1.PersistentVolumeMode {
	if m == nil {
		return corev1.PersistentVolumeFilesystem
	}
	return *m
}

// FindMatchingVolume is kube's choice of a volume for an unbound claim
// among volumes. A volume pre-bound to the claim wins (or, when its node
// affinity excludes node, nothing does). Otherwise the candidates are
// Available volumes not being deleted, of the claim's class and volume
// mode, with every access mode the claim asks for, at least its request,
// labels its selector matches and, when node is given, node affinity that
// admits node; of those, the fewest access modes, then the smallest
// capacity, then the first name wins. With node nil and delayBinding
// (WaitForFirstConsumer), only a pre-bound volume is taken: the scheduler
// picks the others with the node in hand.
func FindMatchingVolume(c *corev1.PersistentVolumeClaim, volumes []*corev1.PersistentVolume, node *corev1.Node, delayBinding bool) *corev1.PersistentVolume {
	var best *corev1.PersistentVolume
	for _, pv := range volumes {
		if !fits(c, pv) {
			continue
		}
		affinityOK := node == nil || NodeAffinityMatches(pv, node)
		if BoundToClaim(pv, c) {
			if !affinityOK {
				return nil
			}
			return pv
		}
		if (node == nil && delayBinding) || !candidate(c, pv) || !affinityOK {
			continue
		}
		if best == nil || better(pv, best) {
			best = pv
		}
	}
	return best
}

// fits: free or pre-bound to this claim, large enough, same volume mode,
// not being deleted.
func fits(c *corev1.PersistentVolumeClaim, pv *corev1.PersistentVolume) bool {
	if pv.Spec.ClaimRef != nil && !BoundToClaim(pv, c) {
		return false
	}
	have, want := pv.Spec.Capacity[corev1.ResourceStorage], c.Spec.Resources.Requests[corev1.ResourceStorage]
	return have.Cmp(want) >= 0 && volumeMode(pv.Spec.VolumeMode) == volumeMode(c.Spec.VolumeMode) && pv.DeletionTimestamp == nil
}

// candidate: Available, selected, of the class, with the access modes.
func candidate(c *corev1.PersistentVolumeClaim, pv *corev1.PersistentVolume) bool {
	if pv.Status.Phase != corev1.VolumeAvailable || VolumeClass(pv) != ClaimClass(c) ||
		!accessModesContain(pv.Spec.AccessModes, c.Spec.AccessModes) {
		return false
	}
	if c.Spec.Selector == nil {
		return true
	}
	sel, err := metav1.LabelSelectorAsSelector(c.Spec.Selector)
	return err == nil && sel.Matches(labels.Set(pv.Labels))
}

func better(pv, than *corev1.PersistentVolume) bool {
	if len(pv.Spec.AccessModes) != len(than.Spec.AccessModes) {
		return len(pv.Spec.AccessModes) < len(than.Spec.AccessModes)
	}
	a, b := pv.Spec.Capacity[corev1.ResourceStorage], than.Spec.Capacity[corev1.ResourceStorage]
	if cmp := a.Cmp(b); cmp != 0 {
		return cmp < 0
	}
	return pv.Name < than.Name
}
