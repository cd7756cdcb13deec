package clusterdns

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Upstreams forwards to the node's resolvers, in order, until one answers.
type Upstreams struct {
	Servers []string // host:port
	Timeout time.Duration
}

// Forward sends req to each server over network until one answers.
func (u Upstreams) Forward(ctx context.Context, req *dns.Msg, network string) (*dns.Msg, error) {
	if len(u.Servers) == 0 {
		return nil, errors.New("no upstream resolvers")
	}
	c := &dns.Client{Net: network, Timeout: u.Timeout}
	var errs []error
	for _, s := range u.Servers {
		resp, _, err := c.ExchangeContext(ctx, req, s)
		if err == nil {
			return resp, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// ResolvConfUpstreams reads the nameservers of a resolv.conf file, leaving
// out the server's own addresses (a forward to itself would loop).
func ResolvConfUpstreams(path string, own []netip.Addr) (Upstreams, error) {
	f, err := os.Open(path)
	if err != nil {
		return Upstreams{}, fmt.Errorf("upstream resolvers: %w", err)
	}
	defer f.Close()
	u := Upstreams{Timeout: 2 * time.Second}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || fields[0] != "nameserver" {
			continue
		}
		ip, err := netip.ParseAddr(fields[1])
		if err != nil || contains(own, ip) {
			continue
		}
		u.Servers = append(u.Servers, net.JoinHostPort(ip.String(), "53"))
	}
	return u, sc.Err()
}

func contains(l []netip.Addr, ip netip.Addr) bool {
	for _, x := range l {
		if x == ip {
			return true
		}
	}
	return false
}
