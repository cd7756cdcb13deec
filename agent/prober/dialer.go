package prober

import (
	"context"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// DialFunc opens a connection to a pod (TCP, HTTP and gRPC probes and
// hooks). It runs in the agent's network namespace: the node's, from which
// kubelet probes too.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// NodeDialer dials from the agent's own network namespace, with the
// socket's linger time set to one second as kubelet's probe dialer does:
// a probe's connection closes with a RST after that, so frequent probes
// leave no TIME_WAIT sockets behind.
func NodeDialer() DialFunc {
	d := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptLinger(int(fd), unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 1})
		})
		if err != nil {
			return err
		}
		return serr
	}}
	return d.DialContext
}
