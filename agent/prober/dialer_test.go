package prober

import (
	"context"
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

// TestNodeDialerLingers dials a listener on loopback (no pod, service or
// node address) and checks kubelet's one-second linger on the socket.
func TestNodeDialerLingers(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		if c, err := l.Accept(); err == nil {
			_ = c.Close()
		}
	}()
	c, err := NodeDialer()(context.Background(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var lg *unix.Linger
	var gerr error
	if err := raw.Control(func(fd uintptr) { lg, gerr = unix.GetsockoptLinger(int(fd), unix.SOL_SOCKET, unix.SO_LINGER) }); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	if lg.Onoff != 1 || lg.Linger != 1 {
		t.Fatalf("linger %+v, want on, 1 s", *lg)
	}
}
