package prober

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/internal/memnet"
)

// grpcServer serves on the in-memory network at addr, with the health
// service unless withHealth is false; it reports the user agents it saw.
func grpcServer(t *testing.T, n *memnet.Network, addr string, withHealth bool) (*health.Server, *[]string) {
	t.Helper()
	var agents []string
	srv := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		agents = append(agents, md.Get("user-agent")...)
		return next(ctx, req)
	}))
	hs := health.NewServer()
	if withHealth {
		healthpb.RegisterHealthServer(srv, hs)
	}
	l := n.Listen(addr)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return hs, &agents
}

func TestGRPCHandler(t *testing.T) {
	n := memnet.New()
	hs, agents := grpcServer(t, n, "10.244.0.5:9000", true)
	hs.SetServingStatus("ready", healthpb.HealthCheckResponse_NOT_SERVING)
	grpcServer(t, n, "10.244.0.5:9001", false)
	h := grpcHandler{dial: n.Dial, userAgent: "kube-probe/1.37"}
	svc := func(s string) *string { return &s }
	for _, tc := range []struct {
		port       int32
		service    *string
		want       outcome
		wantPrefix string
	}{
		{port: 9000, want: outcomeSuccess, wantPrefix: "service healthy"},
		{port: 9000, service: svc("ready"), want: outcomeFailure, wantPrefix: `service unhealthy (responded with "NOT_SERVING")`},
		{port: 9000, service: svc("unknown"), want: outcomeFailure, wantPrefix: "error: health rpc probe failed: rpc error: code = NotFound"},
		{port: 9001, want: outcomeFailure, wantPrefix: "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): "},
		{port: 9002, want: outcomeFailure, wantPrefix: `error: failed to connect service at "10.244.0.5:9002": `},
	} {
		p := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: tc.port, Service: tc.service}}, TimeoutSeconds: 5}
		out, msg, err := h.run(context.Background(), target{container: &corev1.Container{Name: "app"}, podIP: "10.244.0.5"}, p)
		if err != nil || out != tc.want || !strings.HasPrefix(msg, tc.wantPrefix) {
			t.Errorf("port %d service %v: %s %q %v; want %s %q...", tc.port, tc.service, out, msg, err, tc.want, tc.wantPrefix)
		}
	}
	if len(*agents) == 0 || !strings.HasPrefix((*agents)[0], "kube-probe/1.37") {
		t.Errorf("user agents %q", *agents)
	}
}
