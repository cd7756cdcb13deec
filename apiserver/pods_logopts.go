package apiserver

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateLogOptions checks PodLogOptions' numbers and times as
// kube-apiserver does before asking the node: what does not parse is 400,
// what is out of range 422 with kube's field errors.
func validateLogOptions(in url.Values, name string) error {
	nums := map[string]int64{}
	for _, k := range []string{"tailLines", "limitBytes", "sinceSeconds"} {
		if !in.Has(k) {
			continue
		}
		n, err := strconv.ParseInt(in.Get(k), 10, 64)
		if err != nil {
			return apierrors.NewBadRequest(fmt.Sprintf("%s: %q is not an integer", k, in.Get(k)))
		}
		nums[k] = n
	}
	if v := in.Get("sinceTime"); v != "" {
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			return apierrors.NewBadRequest(fmt.Sprintf("sinceTime: %q is not an RFC 3339 time", v))
		}
	}
	var errs field.ErrorList
	if n, ok := nums["tailLines"]; ok && n < 0 {
		errs = append(errs, field.Invalid(field.NewPath("tailLines"), n, "must be greater than or equal to 0"))
	}
	if n, ok := nums["limitBytes"]; ok && n < 1 {
		errs = append(errs, field.Invalid(field.NewPath("limitBytes"), n, "must be greater than 0"))
	}
	_, since := nums["sinceSeconds"]
	switch {
	case since && in.Get("sinceTime") != "":
		errs = append(errs, field.Forbidden(field.NewPath(""), "at most one of `sinceTime` or `sinceSeconds` may be specified"))
	case since && nums["sinceSeconds"] < 1:
		errs = append(errs, field.Invalid(field.NewPath("sinceSeconds"), nums["sinceSeconds"], "must be greater than 0"))
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(schema.GroupKind{Kind: "PodLogOptions"}, name, errs)
	}
	return nil
}
