package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/miekg/dns"
)

type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// loadResult is what the clients saw.
type loadResult struct {
	latencies []time.Duration
	errors    int
	wall      time.Duration
}

// load runs clients, each on its own UDP socket, asking A records of
// random names one after the other for d. An answer that is not one A
// record, or none within 2 s, counts as an error.
func load(ctx context.Context, dial dialFunc, addr string, names []string, clients int, d time.Duration) (loadResult, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var res loadResult
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		conn, err := dial(ctx, "udp", addr)
		if err != nil {
			return res, fmt.Errorf("client socket: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			lat, errs := oneClient(ctx, &dns.Conn{Conn: conn}, names)
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.errors += errs
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.wall = time.Since(start)
	return res, nil
}

func oneClient(ctx context.Context, co *dns.Conn, names []string) ([]time.Duration, int) {
	var lat []time.Duration
	errs := 0
	for ctx.Err() == nil {
		m := new(dns.Msg).SetQuestion(names[rand.IntN(len(names))], dns.TypeA)
		t0 := time.Now()
		co.SetDeadline(t0.Add(2 * time.Second))
		if err := co.WriteMsg(m); err != nil {
			errs++
			continue
		}
		r, err := readReply(co, m.Id)
		if ctx.Err() != nil {
			break
		}
		if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
			errs++
			continue
		}
		lat = append(lat, time.Since(t0))
	}
	return lat, errs
}

// readReply reads until the reply to id (a late reply to an earlier,
// timed-out question is skipped).
func readReply(co *dns.Conn, id uint16) (*dns.Msg, error) {
	for {
		r, err := co.ReadMsg()
		if err != nil || r.Id == id {
			return r, err
		}
	}
}
