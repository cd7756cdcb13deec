package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// newRegistry is a component's own metrics registry (no global one), with
// the Go runtime's and the process's metrics, as every kube component has.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// bindAddressFlag parses a host:port flag value ("" turns the listener
// off, as kube-proxy's --healthz-bind-address and --metrics-bind-address).
func bindAddressFlag(dst *string) func(string) error {
	return func(v string) error {
		if v != "" {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("want IP:port (empty to disable): %w", err)
			}
		}
		*dst = v
		return nil
	}
}

// serveHTTP serves h over plain HTTP on addr until ctx ends; a listener
// that cannot be opened is logged, and what it serves is missing.
func serveHTTP(ctx context.Context, log *slog.Logger, what, addr string, h http.Handler) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error("listener not opened: "+what+" is not served", "addr", addr, "err", err)
		return
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	go func() { <-ctx.Done(); srv.Close() }()
	log.Info("serving "+what, "addr", l.Addr().String())
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error(what+" stopped", "err", err)
	}
}
