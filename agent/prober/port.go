package prober

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// ResolvePort turns a handler's port into a number as kubelet does: a
// number as is; a name through the container's ports, or, failing that, as
// a number written as a string. The result must be in 1-65535.
func ResolvePort(port intstr.IntOrString, c *corev1.Container) (int, error) {
	n := -1
	switch port.Type {
	case intstr.Int:
		n = port.IntValue()
	case intstr.String:
		var ok bool
		if n, ok = portByName(c, port.StrVal); !ok {
			var err error
			if n, err = strconv.Atoi(port.StrVal); err != nil {
				return -1, fmt.Errorf("port %s not found in container %s", port.StrVal, c.Name)
			}
		}
	default:
		return -1, fmt.Errorf("port %v has no type", port)
	}
	if n <= 0 || n >= 65536 {
		return n, fmt.Errorf("invalid port number: %d", n)
	}
	return n, nil
}

func portByName(c *corev1.Container, name string) (int, bool) {
	for _, p := range c.Ports {
		if p.Name == name {
			return int(p.ContainerPort), true
		}
	}
	return 0, false
}
