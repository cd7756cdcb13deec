package agent

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"
)

// serveHealthz answers /healthz over plain HTTP on HealthzBindAddress
// (loopback), as kubelet's healthz port does: local checks need no
// credentials, and nothing else is served there.
func (a *Agent) serveHealthz(ctx context.Context) {
	addr := net.JoinHostPort(a.cfg.HealthzBindAddress, strconv.Itoa(a.cfg.HealthzPort))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		a.log.Error("healthz listener", "addr", addr, "err", err)
		return
	}
	srv := &http.Server{Handler: healthzHandler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		a.log.Error("healthz stopped", "err", err)
	}
}

func healthzHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	return mux
}
