package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
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
	srv := &http.Server{Handler: healthzHandler(a.healthChecks(), a.log), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		a.log.Error("healthz stopped", "err", err)
	}
}

func healthzHandler(checks []healthCheck, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", healthz(checks, log))
	return mux
}

// healthCheck is one named check of /healthz: ok, or why not.
type healthCheck struct {
	name  string
	check func() (bool, string)
}

// healthChecks are the agent's: the PLEG follows the runtime (its event
// stream is connected and it relisted lately), as kubelet's "pleg" check.
func (a *Agent) healthChecks() []healthCheck {
	return []healthCheck{{name: "pleg", check: a.pleg.Healthy}}
}

// Healthy runs the /healthz checks: true, or false with the first failing
// check and its reason (for a service manager's watchdog).
func (a *Agent) Healthy() (bool, string) {
	for _, c := range a.healthChecks() {
		if ok, reason := c.check(); !ok {
			return false, c.name + ": " + reason
		}
	}
	return true, ""
}

// healthz answers "ok", or 500 listing the checks as kubelet does, the
// reasons withheld from the caller (healthz needs no credentials) and
// logged.
func healthz(checks []healthCheck, log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		var b strings.Builder
		failed := false
		b.WriteString("[+]ping ok\n")
		for _, c := range checks {
			if ok, reason := c.check(); !ok {
				failed = true
				log.Warn("health check failed", "check", c.name, "reason", reason)
				fmt.Fprintf(&b, "[-]%s failed: reason withheld\n", c.name)
			} else {
				fmt.Fprintf(&b, "[+]%s ok\n", c.name)
			}
		}
		if !failed {
			w.Write([]byte("ok"))
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusInternalServerError)
		b.WriteString("healthz check failed\n")
		w.Write([]byte(b.String()))
	}
}
