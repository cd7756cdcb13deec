package main

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// answerServer answers every A question on loopback with one record, but
// names ending in "bad." get NXDOMAIN.
func answerServer(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg).SetReply(r)
		if name := r.Question[0].Name; name == "bad." {
			m.Rcode = dns.RcodeNameError
		} else {
			rr, _ := dns.NewRR(name + " 5 IN A 10.96.0.1")
			m.Answer = []dns.RR{rr}
		}
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

func TestLoadCountsAnswersAndErrors(t *testing.T) {
	addr := answerServer(t)
	var d net.Dialer
	r, err := load(context.Background(), d.DialContext, addr, []string{"good.", "bad."}, 2, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.latencies) == 0 || r.errors == 0 {
		t.Fatalf("%d answers, %d errors: want both (half the names are NXDOMAIN)", len(r.latencies), r.errors)
	}
	if r.wall < 300*time.Millisecond {
		t.Fatalf("wall %v shorter than the load time", r.wall)
	}
}

func TestParseFlagsQuick(t *testing.T) {
	cfg, err := parseFlags([]string{"--quick", "--clients", "3"})
	if err != nil || cfg.Services != 100 || cfg.Clients != 3 || cfg.Duration != 2*time.Second {
		t.Fatalf("%+v %v", cfg, err)
	}
	if _, err := parseFlags([]string{"--services", "0"}); err == nil {
		t.Fatal("0 Services accepted")
	}
}
