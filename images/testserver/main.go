// Command testserver is the test image's program: a small HTTP, TCP-echo and
// UDP-echo server, and a pause mode that sleeps until it is signalled.
//
//	testserver serve [--http :8080] [--tcp-echo :9000] [--udp-echo :9001] [--shutdown-delay 0s]
//	testserver pause
//	testserver get [--count N] [--timeout D] URL
//	testserver kube PATH   (GET PATH from the API server as the pod's ServiceAccount, with client-go)
//	testserver version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// version names the image build; bump it when the server's behaviour changes.
const version = "v1"

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(os.Args[1:], os.Stdout, log); err != nil {
		fmt.Fprintf(os.Stderr, "testserver: %v\n", err)
		os.Exit(2)
	}
}

func run(args []string, stdout io.Writer, log *slog.Logger) error {
	mode := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		mode, args = args[0], args[1:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	switch mode {
	case "serve":
		return serve(ctx, args, log)
	case "pause":
		<-ctx.Done()
		return nil
	case "get":
		return runGet(ctx, args, stdout)
	case "kube":
		return runKube(ctx, args, stdout)
	case "version":
		fmt.Fprintln(stdout, version)
		return nil
	}
	return fmt.Errorf("unknown mode %q (want serve, pause, get, kube or version)", mode)
}

func serve(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg := Config{}
	fs.StringVar(&cfg.HTTPAddr, "http", ":8080", "HTTP listen address (empty: off)")
	fs.StringVar(&cfg.TCPEchoAddr, "tcp-echo", ":9000", "TCP echo listen address (empty: off)")
	fs.StringVar(&cfg.UDPEchoAddr, "udp-echo", ":9001", "UDP echo listen address (empty: off)")
	fs.DurationVar(&cfg.ShutdownDelay, "shutdown-delay", 0, "how long to keep serving after SIGTERM")
	if err := fs.Parse(args); err != nil {
		return err
	}
	srv, err := Listen(cfg, log)
	if err != nil {
		return err
	}
	log.Info("serving", "http", cfg.HTTPAddr, "tcp-echo", cfg.TCPEchoAddr, "udp-echo", cfg.UDPEchoAddr)
	select {
	case <-ctx.Done():
	case code := <-srv.ExitRequests():
		srv.Close()
		os.Exit(code)
	}
	log.Info("signalled; shutting down", "delay", cfg.ShutdownDelay)
	time.Sleep(cfg.ShutdownDelay)
	return errors.Join(srv.Close())
}
