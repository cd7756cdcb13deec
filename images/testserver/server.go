package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync/atomic"
	"time"
)

// Config says what the server listens on.
type Config struct {
	HTTPAddr      string        // HTTP; empty: off
	TCPEchoAddr   string        // TCP echo; empty: off
	UDPEchoAddr   string        // UDP echo; empty: off
	ShutdownDelay time.Duration // keep serving this long after SIGTERM
}

// Server is a running test server.
type Server struct {
	log      *slog.Logger
	healthy  atomic.Bool
	exits    chan int
	closers  []io.Closer
	hostname string
}

// Listen opens every configured listener and starts serving.
func Listen(cfg Config, log *slog.Logger) (*Server, error) {
	host, _ := os.Hostname()
	s := &Server{log: log, exits: make(chan int, 1), hostname: host}
	s.healthy.Store(true)
	if err := s.listenAll(cfg); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) listenAll(cfg Config) error {
	if cfg.HTTPAddr != "" {
		l, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("http: %w", err)
		}
		hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
		s.closers = append(s.closers, hs)
		go hs.Serve(l)
	}
	if cfg.TCPEchoAddr != "" {
		l, err := net.Listen("tcp", cfg.TCPEchoAddr)
		if err != nil {
			return fmt.Errorf("tcp echo: %w", err)
		}
		s.closers = append(s.closers, l)
		go s.serveTCPEcho(l)
	}
	if cfg.UDPEchoAddr != "" {
		c, err := net.ListenPacket("udp", cfg.UDPEchoAddr)
		if err != nil {
			return fmt.Errorf("udp echo: %w", err)
		}
		s.closers = append(s.closers, c)
		go s.serveUDPEcho(c)
	}
	return nil
}

// ExitRequests delivers the code asked for by /exit.
func (s *Server) ExitRequests() <-chan int { return s.exits }

// Close stops every listener.
func (s *Server) Close() error {
	var errs []error
	for _, c := range s.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Handler serves the HTTP API:
//
//	/            "hello from <hostname>"
//	/hostname    the hostname
//	/healthz     200 "ok", or 503 after POST /healthz?fail=true (POST ?fail=false heals)
//	/exit?code=N exits the process with code N after answering
//	/env         the environment, one VAR=value a line, sorted
//	/echo        the request body, or the "msg" query parameter
//	/slow?ms=N   answers after N milliseconds (at most 60000)
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s\n", s.hostname)
	})
	mux.HandleFunc("/hostname", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, s.hostname)
	})
	mux.HandleFunc("/healthz", s.healthz)
	mux.HandleFunc("/exit", s.exit)
	mux.HandleFunc("/env", func(w http.ResponseWriter, r *http.Request) {
		env := os.Environ()
		sort.Strings(env)
		for _, kv := range env {
			fmt.Fprintln(w, kv)
		}
	})
	mux.HandleFunc("/echo", echo)
	mux.HandleFunc("/slow", slow)
	return mux
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		fail, err := strconv.ParseBool(r.URL.Query().Get("fail"))
		if err != nil {
			http.Error(w, "POST /healthz?fail=true|false", http.StatusBadRequest)
			return
		}
		s.healthy.Store(!fail)
		s.log.Info("health switched", "healthy", !fail)
	}
	if !s.healthy.Load() {
		http.Error(w, "unhealthy", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

func (s *Server) exit(w http.ResponseWriter, r *http.Request) {
	code, err := strconv.Atoi(r.URL.Query().Get("code"))
	if err != nil || code < 0 || code > 255 {
		http.Error(w, "want /exit?code=N with 0 <= N <= 255", http.StatusBadRequest)
		return
	}
	fmt.Fprintf(w, "exiting with %d\n", code)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	select {
	case s.exits <- code:
	default:
	}
}

func echo(w http.ResponseWriter, r *http.Request) {
	if msg := r.URL.Query().Get("msg"); msg != "" {
		fmt.Fprint(w, msg)
		return
	}
	io.Copy(w, io.LimitReader(r.Body, 1<<20))
}

func slow(w http.ResponseWriter, r *http.Request) {
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 || ms > 60000 {
		http.Error(w, "want /slow?ms=N with 0 <= N <= 60000", http.StatusBadRequest)
		return
	}
	select {
	case <-time.After(time.Duration(ms) * time.Millisecond):
		fmt.Fprintf(w, "slept %dms\n", ms)
	case <-r.Context().Done():
	}
}

func (s *Server) serveTCPEcho(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			io.Copy(c, c)
		}()
	}
}

func (s *Server) serveUDPEcho(c net.PacketConn) {
	buf := make([]byte, 64<<10)
	for {
		n, addr, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		c.WriteTo(buf[:n], addr)
	}
}
