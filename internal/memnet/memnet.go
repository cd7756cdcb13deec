// Package memnet is an in-memory network for tests of code that dials pods
// (probes, lifecycle hooks): servers listen on any "host:port" and a dial
// reaches them without a packet on any interface, so unit tests keep the
// lab-node rule and need no root.
package memnet

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"

	"google.golang.org/grpc/test/bufconn"
)

// Network maps addresses to listeners. It is safe for concurrent use.
type Network struct {
	mu        sync.Mutex
	listeners map[string]*bufconn.Listener
	dialed    []string
}

// New returns an empty network.
func New() *Network {
	return &Network{listeners: map[string]*bufconn.Listener{}}
}

// Listen returns a listener for addr; closing it frees addr.
func (n *Network) Listen(addr string) net.Listener {
	n.mu.Lock()
	defer n.mu.Unlock()
	l := bufconn.Listen(64 << 10)
	n.listeners[addr] = l
	return &listener{Listener: l, free: func() { n.free(addr, l) }}
}

func (n *Network) free(addr string, l *bufconn.Listener) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.listeners[addr] == l {
		delete(n.listeners, addr)
	}
}

// Dial connects to the listener at addr (network must be tcp); with none
// it fails as a refused TCP connection does.
func (n *Network) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	n.mu.Lock()
	n.dialed = append(n.dialed, addr)
	l, ok := n.listeners[addr]
	n.mu.Unlock()
	if network != "tcp" && network != "tcp4" && network != "tcp6" {
		return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("memnet: network %q not supported", network)}
	}
	if !ok {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: tcpAddr(addr), Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	return l.DialContext(ctx)
}

// Dialed lists every address dialled, in order.
func (n *Network) Dialed() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.dialed...)
}

type listener struct {
	*bufconn.Listener
	free func()
}

func (l *listener) Close() error {
	l.free()
	return l.Listener.Close()
}

// tcpAddr names the address a refused dial was for.
type tcpAddr string

func (a tcpAddr) Network() string { return "tcp" }
func (a tcpAddr) String() string  { return string(a) }
