package prober

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
)

// grpcHandler runs grpc probes: the grpc.health.v1 Health/Check call on the
// pod's IP and port, without TLS, for the probe's service ("" for the
// server as a whole). SERVING is success; anything else, an error
// included, a failure with kubelet's message.
type grpcHandler struct {
	dial      DialFunc
	userAgent string
}

func (h grpcHandler) run(ctx context.Context, t target, p *corev1.Probe) (outcome, string, error) {
	addr := net.JoinHostPort(t.podIP, strconv.Itoa(int(p.GRPC.Port)))
	conn, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUserAgent(h.userAgent),
		grpc.WithContextDialer(func(ctx context.Context, a string) (net.Conn, error) { return h.dial(ctx, "tcp", a) }))
	if err != nil {
		return outcomeFailure, fmt.Sprintf("error: failed to connect service at %q: %v", addr, err), nil
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout(p))
	defer cancel()
	service := ""
	if p.GRPC.Service != nil {
		service = *p.GRPC.Service
	}
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		return outcomeFailure, grpcFailure(addr, err, timeout(p).String()), nil
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return outcomeFailure, fmt.Sprintf("service unhealthy (responded with %q)", resp.GetStatus().String()), nil
	}
	return outcomeSuccess, "service healthy", nil
}

// grpcFailure words a failed call as kubelet does.
func grpcFailure(addr string, err error, timeout string) string {
	st, _ := status.FromError(err)
	switch st.Code() {
	case codes.Unimplemented:
		return "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): " + st.Message()
	case codes.DeadlineExceeded:
		return "timeout: health rpc did not complete within " + timeout
	case codes.Unavailable:
		return fmt.Sprintf("error: failed to connect service at %q: %s", addr, st.Message())
	}
	return fmt.Sprintf("error: health rpc probe failed: %v", err)
}
