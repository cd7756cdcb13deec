package validation

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Limits on spec.dnsConfig, as in kube.
const (
	maxDNSNameservers     = 3
	maxDNSSearchPaths     = 32
	maxDNSSearchListChars = 2048
)

func taintEffects() []corev1.TaintEffect {
	return []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute}
}

func tolerations(ts []corev1.Toleration, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, t := range ts {
		errs = append(errs, toleration(t, fld.Index(i))...)
	}
	return errs
}

func toleration(t corev1.Toleration, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if t.Key != "" {
		errs = append(errs, metav1validation.ValidateLabelName(t.Key, fld.Child("key"))...)
	}
	if t.Key == "" && t.Operator != corev1.TolerationOpExists {
		errs = append(errs, field.Invalid(fld.Child("operator"), t.Operator,
			"operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
	}
	if t.TolerationSeconds != nil && t.Effect != corev1.TaintEffectNoExecute {
		errs = append(errs, field.Invalid(fld.Child("effect"), t.Effect,
			"effect must be 'NoExecute' when `tolerationSeconds` is set"))
	}
	switch t.Operator {
	case corev1.TolerationOpEqual, "":
		if msgs := validation.IsValidLabelValue(t.Value); len(msgs) > 0 {
			errs = append(errs, field.Invalid(fld.Child("operator"), t.Value, strings.Join(msgs, ";")))
		}
	case corev1.TolerationOpExists:
		if t.Value != "" {
			errs = append(errs, field.Invalid(fld.Child("operator"), t, "value must be empty when `operator` is 'Exists'"))
		}
	default:
		errs = append(errs, field.NotSupported(fld.Child("operator"), t.Operator,
			[]corev1.TolerationOperator{corev1.TolerationOpEqual, corev1.TolerationOpExists}))
	}
	return append(errs, optionalEnum(t.Effect, fld.Child("effect"), taintEffects()...)...)
}

// dnsConfig checks spec.dnsConfig; dnsPolicy None needs one with a
// nameserver.
func dnsConfig(c *corev1.PodDNSConfig, policy corev1.DNSPolicy, fld *field.Path) field.ErrorList {
	if policy == corev1.DNSNone {
		if c == nil {
			return field.ErrorList{field.Required(fld, "must provide `dnsConfig` when `dnsPolicy` is None")}
		}
		if len(c.Nameservers) == 0 {
			return field.ErrorList{field.Required(fld.Child("nameservers"),
				"must provide at least one DNS nameserver when `dnsPolicy` is None")}
		}
	}
	if c == nil {
		return nil
	}
	errs := nameservers(c.Nameservers, fld.Child("nameservers"))
	errs = append(errs, dnsSearches(c.Searches, fld.Child("searches"))...)
	for i, o := range c.Options {
		if o.Name == "" {
			errs = append(errs, field.Required(fld.Child("options").Index(i).Child("name"), ""))
		}
	}
	return errs
}

func nameservers(ns []string, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(ns) > maxDNSNameservers {
		errs = append(errs, field.Invalid(fld, ns, fmt.Sprintf("must not have more than %d nameservers", maxDNSNameservers)))
	}
	for i, ip := range ns {
		errs = append(errs, validation.IsValidIPForLegacyField(fld.Index(i), ip, true, nil)...)
	}
	return errs
}

// dnsSearches allows "." and domains with underscores, as kube's relaxed DNS
// search validation (GA) does.
func dnsSearches(searches []string, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(searches) > maxDNSSearchPaths {
		errs = append(errs, field.Invalid(fld, searches, fmt.Sprintf("must not have more than %d search paths", maxDNSSearchPaths)))
	}
	if n := len(strings.Join(searches, " ")); n > maxDNSSearchListChars {
		errs = append(errs, field.Invalid(fld, searches,
			fmt.Sprintf("must not have more than %d characters (including spaces) in the search list", maxDNSSearchListChars)))
	}
	for i, s := range searches {
		if s == "." {
			continue
		}
		domain := strings.TrimSuffix(s, ".")
		errs = append(errs, invalids(fld.Index(i), s, validation.IsDNS1123SubdomainWithUnderscore(domain))...)
	}
	return errs
}

func topologySpreadConstraints(cs []corev1.TopologySpreadConstraint, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, c := range cs {
		idx := fld.Index(i)
		errs = append(errs, spreadConstraint(c, idx)...)
		key := fmt.Sprintf("{%v, %v}", c.TopologyKey, c.WhenUnsatisfiable)
		if seen.Has(key) {
			errs = append(errs, field.Duplicate(idx.Child("{topologyKey, whenUnsatisfiable}"), key))
		}
		seen.Insert(key)
	}
	return errs
}

func spreadConstraint(c corev1.TopologySpreadConstraint, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if c.MaxSkew <= 0 {
		errs = append(errs, field.Invalid(fld.Child("maxSkew"), c.MaxSkew, positiveMsg))
	}
	if c.TopologyKey == "" {
		errs = append(errs, field.Required(fld.Child("topologyKey"), "can not be empty"))
	} else {
		errs = append(errs, qualifiedName(c.TopologyKey, fld.Child("topologyKey"))...)
	}
	errs = append(errs, enum(c.WhenUnsatisfiable, fld.Child("whenUnsatisfiable"),
		corev1.DoNotSchedule, corev1.ScheduleAnyway)...)
	if c.MinDomains != nil {
		if *c.MinDomains <= 0 {
			errs = append(errs, field.Invalid(fld.Child("minDomains"), *c.MinDomains, positiveMsg))
		} else if c.WhenUnsatisfiable != corev1.DoNotSchedule {
			errs = append(errs, field.Invalid(fld.Child("minDomains"), *c.MinDomains,
				"can only use minDomains if whenUnsatisfiable=DoNotSchedule"))
		}
	}
	if c.LabelSelector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(c.LabelSelector,
			metav1validation.LabelSelectorValidationOptions{}, fld.Child("labelSelector"))...)
	}
	return errs
}
