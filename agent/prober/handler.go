package prober

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// target is what one probe run needs to know.
type target struct {
	pod         *corev1.Pod
	container   *corev1.Container
	containerID string // the runtime's id
	podIP       string
}

// handler runs one kind of probe action once. An error means the probe
// could not be run at all (kubelet: "errored"): its result is thrown away.
type handler interface {
	run(ctx context.Context, t target, p *corev1.Probe) (outcome, string, error)
}

// handlers holds one handler per action type.
type handlers struct {
	exec, http, tcp, grpc handler
}

// pick returns the handler for the probe's action.
func (h handlers) pick(p *corev1.Probe) (handler, error) {
	switch {
	case p.Exec != nil:
		return h.exec, nil
	case p.HTTPGet != nil:
		return h.http, nil
	case p.TCPSocket != nil:
		return h.tcp, nil
	case p.GRPC != nil:
		return h.grpc, nil
	}
	return nil, fmt.Errorf("missing probe handler")
}

// Defaults of a probe's fields, as the API server sets them; a pod that
// bypassed defaulting gets them here.
const (
	defaultTimeout          = time.Second
	defaultPeriod           = 10 * time.Second
	defaultSuccessThreshold = 1
	defaultFailureThreshold = 3
)

func timeout(p *corev1.Probe) time.Duration {
	return seconds(p.TimeoutSeconds, defaultTimeout)
}

func period(p *corev1.Probe) time.Duration {
	return seconds(p.PeriodSeconds, defaultPeriod)
}

func seconds(n int32, def time.Duration) time.Duration {
	if n <= 0 {
		return def
	}
	return time.Duration(n) * time.Second
}

func threshold(n int32, def int) int {
	if n <= 0 {
		return def
	}
	return int(n)
}
