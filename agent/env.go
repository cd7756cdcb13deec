package agent

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodeagent/nodeagent/api/expansion"
)

// resolveEnv computes a container's environment as the kubelet does:
// envFrom first, then env (later entries win; a value's $(VAR) refers to
// the variables before it and the Services'), with valueFrom resolved from
// the pod, its resources, config maps and secrets; then the Service
// variables (service_env.go) the container does not define.
func (a *Agent) resolveEnv(ctx context.Context, pod *corev1.Pod, spec corev1.Container) ([]string, error) {
	svcEnv, err := a.serviceEnv(pod)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	refs := maps.Clone(svcEnv) // what $(VAR) sees
	var order []string
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k], refs[k] = v, v
	}
	for _, from := range spec.EnvFrom {
		data, err := a.envFromSource(ctx, pod.Namespace, from)
		if err != nil {
			return nil, err
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			set(from.Prefix+k, data[k])
		}
	}
	for _, e := range spec.Env {
		v, err := a.envValue(ctx, pod, spec, e)
		if err != nil {
			return nil, err
		}
		if e.ValueFrom == nil {
			v = expansion.Expand(v, refs)
		}
		set(e.Name, v)
	}
	for _, k := range slices.Sorted(maps.Keys(svcEnv)) {
		if _, defined := vars[k]; !defined {
			set(k, svcEnv[k])
		}
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+vars[k])
	}
	return out, nil
}

// expandCommand is the container's command and args with $(VAR) replaced
// by its environment's variables, as kubelet expands them.
func expandCommand(spec corev1.Container, env []string) (command, args []string) {
	vars := envMap(env)
	expand := func(in []string) []string {
		if in == nil {
			return nil
		}
		out := make([]string, len(in))
		for i, s := range in {
			out[i] = expansion.Expand(s, vars)
		}
		return out
	}
	return expand(spec.Command), expand(spec.Args)
}

// envMap is NAME=VALUE pairs as a map.
func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func (a *Agent) envFromSource(ctx context.Context, ns string, from corev1.EnvFromSource) (map[string]string, error) {
	switch {
	case from.ConfigMapRef != nil:
		cm, err := a.client.CoreV1().ConfigMaps(ns).Get(ctx, from.ConfigMapRef.Name, metav1.GetOptions{})
		if err != nil {
			return nil, optional(from.ConfigMapRef.Optional, fmt.Errorf("configmap %q not found", from.ConfigMapRef.Name))
		}
		return cm.Data, nil
	case from.SecretRef != nil:
		s, err := a.client.CoreV1().Secrets(ns).Get(ctx, from.SecretRef.Name, metav1.GetOptions{})
		if err != nil {
			return nil, optional(from.SecretRef.Optional, fmt.Errorf("secret %q not found", from.SecretRef.Name))
		}
		out := map[string]string{}
		for k, v := range s.Data {
			out[k] = string(v)
		}
		return out, nil
	}
	return nil, nil
}

func optional(opt *bool, err error) error {
	if opt != nil && *opt {
		return nil
	}
	return err
}

func (a *Agent) envValue(ctx context.Context, pod *corev1.Pod, spec corev1.Container, e corev1.EnvVar) (string, error) {
	src := e.ValueFrom
	switch {
	case src == nil:
		return e.Value, nil
	case src.FieldRef != nil:
		return fieldValue(pod, src.FieldRef.FieldPath, a.nodeIP)
	case src.ResourceFieldRef != nil:
		return resourceValue(spec, src.ResourceFieldRef)
	case src.ConfigMapKeyRef != nil:
		r := src.ConfigMapKeyRef
		cm, err := a.client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		if err != nil || !hasKey(cm.Data, r.Key) {
			return "", optional(r.Optional, fmt.Errorf("couldn't find key %s in ConfigMap %s/%s", r.Key, pod.Namespace, r.Name))
		}
		return cm.Data[r.Key], nil
	case src.SecretKeyRef != nil:
		r := src.SecretKeyRef
		s, err := a.client.CoreV1().Secrets(pod.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		if err != nil || s.Data[r.Key] == nil {
			return "", optional(r.Optional, fmt.Errorf("couldn't find key %s in Secret %s/%s", r.Key, pod.Namespace, r.Name))
		}
		return string(s.Data[r.Key]), nil
	}
	return "", nil
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// fieldValue resolves a downward-API field of the pod.
func fieldValue(pod *corev1.Pod, path, hostIP string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP":
		return hostIP, nil
	case "status.podIP":
		return pod.Status.PodIP, nil
	}
	var key string
	if _, err := fmt.Sscanf(path, "metadata.labels['%s", &key); err == nil {
		return pod.Labels[trimKey(key)], nil
	}
	if _, err := fmt.Sscanf(path, "metadata.annotations['%s", &key); err == nil {
		return pod.Annotations[trimKey(key)], nil
	}
	return "", fmt.Errorf("unsupported fieldPath %q", path)
}

func trimKey(k string) string {
	if len(k) >= 2 && k[len(k)-2:] == "']" {
		return k[:len(k)-2]
	}
	return k
}

// resourceValue resolves requests.* and limits.* of the container, in the
// divisor's units (rounded up), as the downward API does.
func resourceValue(spec corev1.Container, r *corev1.ResourceFieldSelector) (string, error) {
	var list corev1.ResourceList
	var name string
	switch {
	case len(r.Resource) > 9 && r.Resource[:9] == "requests.":
		list, name = spec.Resources.Requests, r.Resource[9:]
	case len(r.Resource) > 7 && r.Resource[:7] == "limits.":
		list, name = spec.Resources.Limits, r.Resource[7:]
	default:
		return "", fmt.Errorf("unsupported resource %q", r.Resource)
	}
	q, ok := list[corev1.ResourceName(name)]
	if !ok {
		return "0", nil
	}
	div := r.Divisor
	if div.IsZero() {
		return strconv.FormatInt(q.Value(), 10), nil
	}
	v := (q.MilliValue() + div.MilliValue() - 1) / div.MilliValue()
	return strconv.FormatInt(v, 10), nil
}
