package prober

import (
	"context"
	"net"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// tcpHandler runs tcpSocket probes: a connection opened within the
// timeout is success (it is closed at once), any error a failure with the
// error as message.
type tcpHandler struct{ dial DialFunc }

func (h tcpHandler) run(ctx context.Context, t target, p *corev1.Probe) (outcome, string, error) {
	port, err := ResolvePort(p.TCPSocket.Port, t.container)
	if err != nil {
		return outcomeUnknown, "", err
	}
	host := p.TCPSocket.Host
	if host == "" {
		host = t.podIP
	}
	ctx, cancel := context.WithTimeout(ctx, timeout(p))
	defer cancel()
	conn, err := h.dial(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return outcomeFailure, err.Error(), nil
	}
	_ = conn.Close() // the probe succeeded: a close error changes nothing
	return outcomeSuccess, "", nil
}
