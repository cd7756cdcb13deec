package prober

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/nodeagent/nodeagent/internal/memnet"
)

func TestTCPHandler(t *testing.T) {
	n := memnet.New()
	l := n.Listen("10.244.0.5:5432")
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	h := tcpHandler{dial: n.Dial}
	c := &corev1.Container{Name: "db", Ports: []corev1.ContainerPort{{Name: "pg", ContainerPort: 5432}}}
	for _, tc := range []struct {
		action  corev1.TCPSocketAction
		want    outcome
		wantOut string
		wantErr bool
	}{
		{action: corev1.TCPSocketAction{Port: intstr.FromString("pg")}, want: outcomeSuccess},
		{action: corev1.TCPSocketAction{Port: intstr.FromInt32(5433)}, want: outcomeFailure,
			wantOut: "dial tcp 10.244.0.5:5433: connect: connection refused"},
		{action: corev1.TCPSocketAction{Host: "10.0.0.7", Port: intstr.FromInt32(5432)}, want: outcomeFailure,
			wantOut: "dial tcp 10.0.0.7:5432: connect: connection refused"},
		{action: corev1.TCPSocketAction{Port: intstr.FromString("nope")}, want: outcomeUnknown, wantErr: true},
	} {
		p := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &tc.action}, TimeoutSeconds: 1}
		out, msg, err := h.run(context.Background(), target{container: c, podIP: "10.244.0.5"}, p)
		if out != tc.want || msg != tc.wantOut || (err != nil) != tc.wantErr {
			t.Errorf("%+v: %s %q %v; want %s %q", tc.action, out, msg, err, tc.want, tc.wantOut)
		}
	}
}
