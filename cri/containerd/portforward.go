package containerd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"syscall"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/internal/ctrio"
	"github.com/nodeagent/nodeagent/cri/internal/podlabels"
	"github.com/nodeagent/nodeagent/internal/nsutil"
)

// PortForward implements cri.Runtime: it dials 127.0.0.1:port (then
// [::1]:port if refused) from inside the sandbox's network namespace, on a
// throwaway OS thread (nsutil), or from the node's own for a host-network
// sandbox, and splices the connection with stream.
func (r *Runtime) PortForward(ctx context.Context, sandboxID string, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	ctx = r.ns(ctx)
	if port <= 0 || port > 65535 {
		return fmt.Errorf("port forward to sandbox %s: invalid port %d", sandboxID, port)
	}
	rec, err := r.record(ctx, sandboxID, podlabels.KindSandbox)
	if err != nil {
		return fmt.Errorf("port forward to %w", err)
	}
	if t, err := r.taskOf(ctx, sandboxID); err != nil || t == nil || !running(t.Status) {
		return errors.Join(fmt.Errorf("port forward to sandbox %s: %w", sandboxID, cri.ErrNotRunning), err)
	}
	netns := rec.Labels[labelNetNS]
	if rec.Labels[labelHostNetwork] == "true" {
		netns = ""
	}
	conn, err := dialLoopback(ctx, netns, port)
	if err != nil {
		return fmt.Errorf("port forward to sandbox %s: %w", sandboxID, err)
	}
	return ctrio.Splice(conn, stream)
}

// dialLoopback connects to port on loopback in the network namespace at
// netns ("" the node's own).
func dialLoopback(ctx context.Context, netns string, port int32) (*net.TCPConn, error) {
	var errs []error
	for _, addr := range []string{"127.0.0.1", "::1"} {
		conn, err := dialIn(ctx, netns, net.JoinHostPort(addr, strconv.Itoa(int(port))))
		if err == nil {
			return conn.(*net.TCPConn), nil
		}
		errs = append(errs, err)
		if !errors.Is(err, syscall.ECONNREFUSED) {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func dialIn(ctx context.Context, netns, addr string) (net.Conn, error) {
	if netns == "" {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
	return nsutil.DialContext(ctx, netns, "tcp", addr)
}
