package clusterdns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// Config tunes the server. Zero fields take their defaults.
type Config struct {
	// Domain is the cluster domain. Default "cluster.local".
	Domain string
	// TTL of every answer from the cluster domain. Default 5 s (CoreDNS's
	// kubernetes plugin's).
	TTL time.Duration
	// Allowed are the networks whose clients are answered (pods, nodes,
	// loopback); others are REFUSED. Required.
	Allowed []netip.Prefix
	// ClusterRanges are the Service and pod ranges: a reverse name there
	// that no Service or endpoint has is NXDOMAIN, not forwarded.
	ClusterRanges []netip.Prefix
}

func (c Config) withDefaults() Config {
	if c.Domain == "" {
		c.Domain = "cluster.local"
	}
	if c.TTL == 0 {
		c.TTL = 5 * time.Second
	}
	return c
}

// Validate refuses a configuration the server cannot run with.
func (c Config) Validate() error {
	var errs []error
	if _, ok := dns.IsDomainName(c.Domain); !ok || strings.Trim(c.Domain, ".") == "" {
		errs = append(errs, fmt.Errorf("cluster domain %q is not a domain name", c.Domain))
	}
	if c.TTL < time.Second || c.TTL > time.Hour {
		errs = append(errs, fmt.Errorf("TTL %v is not between 1s and 1h", c.TTL))
	}
	if len(c.Allowed) == 0 {
		errs = append(errs, errors.New("no allowed client networks: the server would answer nobody"))
	}
	return errors.Join(errs...)
}

// Forwarder sends a question outside the cluster domain upstream.
type Forwarder interface {
	Forward(ctx context.Context, req *dns.Msg, network string) (*dns.Msg, error)
}

// Server answers DNS questions: the cluster domain from Records, the rest
// through the Forwarder.
type Server struct {
	cfg     Config
	ans     *answerer
	records Records
	fwd     Forwarder
	log     *slog.Logger
}

// New makes a server; records must be started (their factory) by the caller.
func New(cfg Config, records Records, fwd Forwarder, log *slog.Logger) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	domain := dns.Fqdn(strings.ToLower(cfg.Domain))
	return &Server{cfg: cfg, records: records, fwd: fwd, log: log,
		ans: &answerer{records: records, domain: domain, ttl: uint32(cfg.TTL / time.Second)}}, nil
}

// ServeDNS answers one request (miekg/dns's Handler).
func (s *Server) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := s.respond(w.RemoteAddr(), w.LocalAddr().Network(), r)
	if w.LocalAddr().Network() == "udp" {
		m.Truncate(udpSize(r))
	}
	if err := w.WriteMsg(m); err != nil {
		s.log.Debug("dns reply not sent", "client", w.RemoteAddr(), "err", err)
	}
}

// respond is the reply to r from client over network ("udp" or "tcp").
func (s *Server) respond(client net.Addr, network string, r *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	switch {
	case !s.allowed(client):
		return m.SetRcode(r, dns.RcodeRefused)
	case r.Opcode != dns.OpcodeQuery:
		return m.SetRcode(r, dns.RcodeNotImplemented)
	case len(r.Question) != 1:
		return m.SetRcode(r, dns.RcodeFormatError)
	}
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	switch {
	case inZone(name, s.ans.domain):
		if !s.records.HasSynced() {
			return m.SetRcode(r, dns.RcodeServerFailure)
		}
		return s.authoritative(r, s.ans.answer(q))
	case isReverse(name):
		if ip, ok := reverseIP(name); ok {
			if rep, found := s.ans.ptr(q, ip); found {
				return s.authoritative(r, rep)
			}
			if s.inClusterRanges(ip) {
				return s.authoritative(r, nxdomain)
			}
		}
	}
	return s.forward(r, network)
}

// authoritative writes rep as the zone's answer: the SOA goes in the
// authority section when there is no answer (NXDOMAIN or NODATA).
func (s *Server) authoritative(r *dns.Msg, rep reply) *dns.Msg {
	m := new(dns.Msg)
	m.SetRcode(r, rep.rcode)
	m.Authoritative, m.RecursionAvailable, m.Compress = true, true, true
	m.Answer, m.Extra = rep.answer, rep.extra
	if len(rep.answer) == 0 {
		m.Ns = []dns.RR{s.ans.soa()}
	}
	if o := r.IsEdns0(); o != nil {
		m.SetEdns0(o.UDPSize(), false)
	}
	return m
}

func (s *Server) forward(r *dns.Msg, network string) *dns.Msg {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := s.fwd.Forward(ctx, r, network)
	if err != nil {
		s.log.Debug("forward failed", "name", r.Question[0].Name, "err", err)
		return new(dns.Msg).SetRcode(r, dns.RcodeServerFailure)
	}
	resp.Id = r.Id
	return resp
}

func (s *Server) allowed(client net.Addr) bool {
	ip := addrIP(client)
	for _, p := range s.cfg.Allowed {
		if ip.IsValid() && p.Contains(ip) {
			return true
		}
	}
	return false
}

func (s *Server) inClusterRanges(ip netip.Addr) bool {
	for _, p := range s.cfg.ClusterRanges {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func addrIP(a net.Addr) netip.Addr {
	var ip net.IP
	switch a := a.(type) {
	case *net.UDPAddr:
		ip = a.IP
	case *net.TCPAddr:
		ip = a.IP
	default:
		return netip.Addr{}
	}
	addr, _ := netip.AddrFromSlice(ip)
	return addr.Unmap()
}

// udpSize is what the client takes over UDP: its EDNS0 size, else 512.
func udpSize(r *dns.Msg) int {
	if o := r.IsEdns0(); o != nil && o.UDPSize() > dns.MinMsgSize {
		return int(o.UDPSize())
	}
	return dns.MinMsgSize
}

// ListenAndServe answers on addr (IP:port) over UDP and TCP until ctx
// ends. It returns once both listeners are bound, or with their error. The
// address may not exist yet (IP_FREEBIND): the pod network's gateway is
// made with the first pod's sandbox.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	lc := net.ListenConfig{Control: freebind}
	pc, err := lc.ListenPacket(ctx, "udp", addr)
	if err != nil {
		return fmt.Errorf("cluster DNS: %w", err)
	}
	l, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		pc.Close()
		return fmt.Errorf("cluster DNS: %w", err)
	}
	servers := []*dns.Server{
		{PacketConn: pc, Handler: s, UDPSize: dns.DefaultMsgSize},
		{Listener: l, Handler: s, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: func() time.Duration { return 10 * time.Second }},
	}
	for _, srv := range servers {
		go func(srv *dns.Server) {
			if err := srv.ActivateAndServe(); err != nil && ctx.Err() == nil {
				s.log.Error("cluster DNS listener stopped", "err", err)
			}
		}(srv)
	}
	go func() {
		<-ctx.Done()
		for _, srv := range servers {
			srv.Shutdown()
		}
	}()
	s.log.Info("cluster DNS serving", "addr", addr, "domain", s.cfg.Domain)
	return nil
}

// freebind lets a socket bind an address the node does not have yet.
func freebind(network, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		if strings.HasSuffix(network, "6") {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_IPV6, unix.IPV6_FREEBIND, 1)
			return
		}
		serr = unix.SetsockoptInt(int(fd), unix.SOL_IP, unix.IP_FREEBIND, 1)
	})
	if err != nil {
		return err
	}
	return serr
}
