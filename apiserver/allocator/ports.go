package allocator

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// nodePorts checks every requested node port, then gives each port that
// needs one and has none a free one; ports that differ only in protocol
// share theirs.
func (j *job) nodePorts(svc *corev1.Service) (field.ErrorList, error) {
	ports := svc.Spec.Ports
	for i := range ports {
		if ports[i].NodePort == 0 {
			continue
		}
		errs, err := j.checkPort(ports[i].NodePort, field.NewPath("spec", "ports").Index(i).Child("nodePort"))
		if err != nil || len(errs) > 0 {
			return errs, err
		}
	}
	if !needsNodePorts(svc) {
		return nil, nil
	}
	byPort := map[int32]int32{}
	for _, p := range ports {
		if p.NodePort != 0 {
			byPort[p.Port] = p.NodePort
		}
	}
	for i := range ports {
		p := &ports[i]
		if p.NodePort != 0 {
			continue
		}
		if np, ok := byPort[p.Port]; ok {
			p.NodePort = np
			continue
		}
		np, err := j.pickPort()
		if err != nil {
			return nil, fmt.Errorf("failed to allocate a nodePort: %w", err)
		}
		p.NodePort, byPort[p.Port] = np, np
	}
	return nil, nil
}

// checkPort: a requested port the stored version holds is fine; another
// must be in the range and free.
func (j *job) checkPort(port int32, fld *field.Path) (field.ErrorList, error) {
	k := PortKey(port)
	if j.held[k] || j.claimed[k] {
		return nil, nil
	}
	msg := "provided port is not in the valid range. The range of valid ports is " + j.a.Ports.String()
	if j.a.Ports.Contains(port) {
		var err error
		if msg, err = j.free(k, "provided port is already allocated"); err != nil || msg == "" {
			return nil, err
		}
	}
	return field.ErrorList{field.Invalid(fld, port, msg)}, nil
}

func (j *job) healthCheckNodePort(svc *corev1.Service) (field.ErrorList, error) {
	spec := &svc.Spec
	if spec.HealthCheckNodePort != 0 {
		return j.checkPort(spec.HealthCheckNodePort, field.NewPath("spec", "healthCheckNodePort"))
	}
	if !needsHealthCheckNodePort(svc) {
		return nil, nil
	}
	np, err := j.pickPort()
	if err != nil {
		return nil, fmt.Errorf("failed to allocate a healthCheckNodePort: %w", err)
	}
	spec.HealthCheckNodePort = np
	return nil, nil
}
