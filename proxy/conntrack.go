package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
)

// Flow selects UDP conntrack entries to delete: those whose original
// destination is Dst (any address when invalid) and port DstPort, and,
// when ReplySrc is valid, whose reply comes from that endpoint.
type Flow struct {
	Dst      netip.Addr
	DstPort  int32
	ReplySrc netip.Addr
}

func (f Flow) String() string {
	s := "udp dst " + f.Dst.String() + ":" + strconv.Itoa(int(f.DstPort))
	if f.ReplySrc.IsValid() {
		s += " via " + f.ReplySrc.String()
	}
	return s
}

// Conntrack deletes stale connection-tracking entries: a UDP "connection"
// to a service keeps going to an endpoint that is gone until its entry is
// removed, because UDP has no close.
type Conntrack interface {
	DeleteUDP(ctx context.Context, f Flow) error
}

// ConntrackTool runs the conntrack(8) binary, with Prefix before it (e.g.
// "ip netns exec NAME"), in the caller's network namespace otherwise.
type ConntrackTool struct {
	Prefix []string
}

var _ Conntrack = ConntrackTool{}

// DeleteUDP runs conntrack -D; "no entry matched" is not an error.
func (c ConntrackTool) DeleteUDP(ctx context.Context, f Flow) error {
	args := append(append([]string(nil), c.Prefix...), "conntrack", "-D", "-p", "udp", "--orig-port-dst", strconv.Itoa(int(f.DstPort)))
	if f.Dst.IsValid() {
		args = append(args, "--orig-dst", f.Dst.String())
	}
	if f.ReplySrc.IsValid() {
		args = append(args, "--reply-src", f.ReplySrc.String())
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && strings.Contains(stderr.String(), "0 flow entries have been deleted") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("conntrack delete %s: %w: %s", f, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// staleFlows lists the UDP flows to delete after moving from prev to next:
// flows to endpoints a UDP service port no longer uses, and flows to a
// service port that had no endpoint before or did not exist (a client that
// sent before the rules were there made an entry without DNAT, and each
// retry from the same port keeps it alive: a DNS client, say).
func staleFlows(prev, next *Snapshot) []Flow {
	if prev == nil {
		return nil
	}
	var out []Flow
	for name, sp := range prev.Services {
		if sp.Protocol != "UDP" {
			continue
		}
		before := ClusterEndpoints(sp, prev.Endpoints[name])
		var after []Endpoint
		if nsp := next.Services[name]; nsp != nil {
			after = ClusterEndpoints(nsp, next.Endpoints[name])
		}
		for _, e := range gone(before, after) {
			out = append(out, flowsTo(sp, e.IP)...)
		}
	}
	for name, sp := range next.Services {
		if sp.Protocol != "UDP" || len(ClusterEndpoints(sp, next.Endpoints[name])) == 0 {
			continue
		}
		if psp := prev.Services[name]; psp == nil || len(ClusterEndpoints(psp, prev.Endpoints[name])) == 0 {
			out = append(out, flowsTo(sp, netip.Addr{})...)
		}
	}
	return out
}

// flowsTo lists the flows of every address sp answers on, via ep (any when
// invalid).
func flowsTo(sp *ServicePort, ep netip.Addr) []Flow {
	out := []Flow{{Dst: sp.ClusterIP, DstPort: sp.Port, ReplySrc: ep}}
	for _, ip := range append(append([]netip.Addr(nil), sp.ExternalIPs...), sp.LoadBalancerIPs...) {
		out = append(out, Flow{Dst: ip, DstPort: sp.Port, ReplySrc: ep})
	}
	if sp.NodePort != 0 {
		out = append(out, Flow{DstPort: sp.NodePort, ReplySrc: ep})
	}
	return out
}

// gone lists the endpoints of before whose address is not in after.
func gone(before, after []Endpoint) []Endpoint {
	keep := map[netip.Addr]bool{}
	for _, e := range after {
		keep[e.IP] = true
	}
	var out []Endpoint
	for _, e := range before {
		if !keep[e.IP] {
			out = append(out, e)
		}
	}
	return out
}
