package validation

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const (
	noHandlerMsg   = "must specify a handler type"
	manyHandlerMsg = "may not specify more than 1 handler type"
)

// containerProbes checks the probes and lifecycle hooks of a container that
// may have them (app containers and sidecars).
func containerProbes(c *corev1.Container, fld *field.Path) field.ErrorList {
	errs := probe(c.LivenessProbe, fld.Child("livenessProbe"))
	errs = append(errs, successThresholdOne(c.LivenessProbe, fld.Child("livenessProbe"))...)
	errs = append(errs, probe(c.StartupProbe, fld.Child("startupProbe"))...)
	errs = append(errs, successThresholdOne(c.StartupProbe, fld.Child("startupProbe"))...)
	errs = append(errs, probe(c.ReadinessProbe, fld.Child("readinessProbe"))...)
	if p := c.ReadinessProbe; p != nil && p.TerminationGracePeriodSeconds != nil {
		errs = append(errs, field.Invalid(fld.Child("readinessProbe", "terminationGracePeriodSeconds"),
			*p.TerminationGracePeriodSeconds, "must not be set for readinessProbes"))
	}
	return append(errs, lifecycle(c.Lifecycle, fld.Child("lifecycle"))...)
}

// successThresholdOne: liveness and startup probes succeed on one success.
func successThresholdOne(p *corev1.Probe, fld *field.Path) field.ErrorList {
	if p != nil && p.SuccessThreshold != 1 {
		return field.ErrorList{field.Invalid(fld.Child("successThreshold"), p.SuccessThreshold, "must be 1")}
	}
	return nil
}

func probe(p *corev1.Probe, fld *field.Path) field.ErrorList {
	if p == nil {
		return nil
	}
	errs := handler(&p.ProbeHandler, fld)
	numbers := []struct {
		value int32
		name  string
	}{
		{p.InitialDelaySeconds, "initialDelaySeconds"},
		{p.TimeoutSeconds, "timeoutSeconds"},
		{p.PeriodSeconds, "periodSeconds"},
		{p.SuccessThreshold, "successThreshold"},
		{p.FailureThreshold, "failureThreshold"},
	}
	for _, n := range numbers {
		errs = append(errs, nonNegative(int64(n.value), fld.Child(n.name))...)
	}
	if g := p.TerminationGracePeriodSeconds; g != nil && *g <= 0 {
		errs = append(errs, field.Invalid(fld.Child("terminationGracePeriodSeconds"), *g, "must be greater than 0"))
	}
	return errs
}

// handler checks that a probe has exactly one handler, and that handler.
func handler(h *corev1.ProbeHandler, fld *field.Path) field.ErrorList {
	errs := exactlyOne(fld, setMembers(h), noHandlerMsg, manyHandlerMsg)
	if len(errs) > 0 {
		return errs
	}
	if h.GRPC != nil {
		return portNum(h.GRPC.Port, fld.Child("grpc", "port"))
	}
	return handlerAction(h.Exec, h.HTTPGet, h.TCPSocket, fld)
}

func lifecycle(l *corev1.Lifecycle, fld *field.Path) field.ErrorList {
	if l == nil {
		return nil
	}
	var errs field.ErrorList
	hooks := []struct {
		h    *corev1.LifecycleHandler
		name string
	}{{l.PostStart, "postStart"}, {l.PreStop, "preStop"}}
	for _, hook := range hooks {
		if hook.h != nil {
			errs = append(errs, lifecycleHandler(hook.h, fld.Child(hook.name))...)
		}
	}
	return errs
}

func lifecycleHandler(h *corev1.LifecycleHandler, fld *field.Path) field.ErrorList {
	errs := exactlyOne(fld, setMembers(h), noHandlerMsg, manyHandlerMsg)
	if len(errs) > 0 {
		return errs
	}
	if h.Sleep != nil {
		return nonNegative(h.Sleep.Seconds, fld.Child("sleep", "seconds"))
	}
	return handlerAction(h.Exec, h.HTTPGet, h.TCPSocket, fld)
}

// handlerAction checks whichever of the shared handler kinds is set.
func handlerAction(exec *corev1.ExecAction, get *corev1.HTTPGetAction, tcp *corev1.TCPSocketAction, fld *field.Path) field.ErrorList {
	switch {
	case exec != nil && len(exec.Command) == 0:
		return field.ErrorList{field.Required(fld.Child("exec", "command"), "")}
	case get != nil:
		return httpGet(get, fld.Child("httpGet"))
	case tcp != nil:
		return portNumOrName(tcp.Port, fld.Child("tcpSocket", "port"))
	}
	return nil
}

func httpGet(h *corev1.HTTPGetAction, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if h.Path == "" {
		errs = append(errs, field.Required(fld.Child("path"), ""))
	}
	errs = append(errs, portNumOrName(h.Port, fld.Child("port"))...)
	if h.Scheme != corev1.URISchemeHTTP && h.Scheme != corev1.URISchemeHTTPS {
		errs = append(errs, field.NotSupported(fld.Child("scheme"), h.Scheme,
			[]corev1.URIScheme{corev1.URISchemeHTTP, corev1.URISchemeHTTPS}))
	}
	for i, hdr := range h.HTTPHeaders {
		errs = append(errs, invalids(fld.Child("httpHeaders").Index(i).Child("name"), hdr.Name,
			validation.IsHTTPHeaderName(hdr.Name))...)
	}
	return errs
}
