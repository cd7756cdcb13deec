package apiserver

import (
	"fmt"
	"slices"

	"k8s.io/apiextensions-apiserver/pkg/apihelpers"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// claimedNames are the names the other definitions of a group hold: their
// resource names (plural, singular, short names) and kinds (kind, listKind).
type claimedNames struct{ resources, kinds []string }

func namesClaimedBy(others []*apiextensionsv1.CustomResourceDefinition) claimedNames {
	var c claimedNames
	for _, o := range others {
		n := o.Status.AcceptedNames
		c.resources = append(append(c.resources, n.Plural, n.Singular), n.ShortNames...)
		c.kinds = append(c.kinds, n.Kind, n.ListKind)
	}
	return c
}

// nameFree: a name the definition already holds, or that no other holds.
func nameFree(requested, accepted string, used []string) error {
	if requested == accepted || requested == "" || !slices.Contains(used, requested) {
		return nil
	}
	return fmt.Errorf("%q is already in use", requested)
}

// acceptNames is kube's naming decision: each requested name that is the
// definition's already, or free in its group, is accepted; a conflict
// leaves the name as it was and NamesAccepted False with the reason.
func acceptNames(crd *apiextensionsv1.CustomResourceDefinition, claimed claimedNames) (apiextensionsv1.CustomResourceDefinitionNames, apiextensionsv1.CustomResourceDefinitionCondition) {
	want, have := crd.Spec.Names, crd.Status.AcceptedNames
	out := have
	cond := apiextensionsv1.CustomResourceDefinitionCondition{Type: apiextensionsv1.NamesAccepted,
		Status: apiextensionsv1.ConditionTrue, Reason: "NoConflicts", Message: "no conflicts found"}
	conflict := func(reason string, err error) {
		cond.Status, cond.Reason, cond.Message = apiextensionsv1.ConditionFalse, reason, err.Error()
	}
	accept := func(reason string, requested, accepted string, used []string, set *string) {
		if err := nameFree(requested, accepted, used); err != nil {
			conflict(reason, err)
			return
		}
		*set = requested
	}
	accept("PluralConflict", want.Plural, have.Plural, claimed.resources, &out.Plural)
	accept("SingularConflict", want.Singular, have.Singular, claimed.resources, &out.Singular)
	shortOK := true
	for _, sn := range want.ShortNames {
		if slices.Contains(have.ShortNames, sn) {
			continue
		}
		if err := nameFree(sn, "", claimed.resources); err != nil {
			conflict("ShortNamesConflict", err)
			shortOK = false
		}
	}
	if shortOK {
		out.ShortNames = want.ShortNames
	}
	accept("KindConflict", want.Kind, have.Kind, claimed.kinds, &out.Kind)
	accept("ListKindConflict", want.ListKind, have.ListKind, claimed.kinds, &out.ListKind)
	out.Categories = want.Categories
	return out, cond
}

// establish computes the definition's status as kube's naming and
// establishing controllers leave it: accepted names and NamesAccepted, and
// Established once the names were accepted (this server serves the
// resources before it writes the condition).
func establish(crd *apiextensionsv1.CustomResourceDefinition, claimed claimedNames) *apiextensionsv1.CustomResourceDefinition {
	out := crd.DeepCopy()
	names, cond := acceptNames(crd, claimed)
	out.Status.AcceptedNames = names
	apihelpers.SetCRDCondition(out, cond)
	if apihelpers.IsCRDConditionTrue(out, apiextensionsv1.Established) {
		return out
	}
	est := apiextensionsv1.CustomResourceDefinitionCondition{Type: apiextensionsv1.Established,
		Status: apiextensionsv1.ConditionFalse, Reason: "NotAccepted", Message: "not all names are accepted"}
	if cond.Status == apiextensionsv1.ConditionTrue {
		est = apiextensionsv1.CustomResourceDefinitionCondition{Type: apiextensionsv1.Established,
			Status: apiextensionsv1.ConditionTrue, Reason: "InitialNamesAccepted", Message: "the initial names have been accepted"}
	}
	apihelpers.SetCRDCondition(out, est)
	return out
}
