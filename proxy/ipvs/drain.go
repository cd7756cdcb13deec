package ipvs

import (
	"errors"
	"net/netip"
)

// destKey names one real server of one virtual server.
type destKey struct {
	svc  ServiceKey
	addr netip.AddrPort
}

// startDrain sets a removed real server's weight to 0, so it takes no new
// connections while its open ones finish; drain deletes it later. One that
// is already at weight 0 (found so after a restart) just starts its clock.
func (b *Backend) startDrain(k ServiceKey, a netip.AddrPort, weight int) error {
	dk := destKey{k, a}
	if _, ok := b.draining[dk]; ok {
		return nil
	}
	if weight != 0 {
		if err := b.d.Handle.UpdateDestination(k, RealServer{Addr: a, Weight: 0}); err != nil {
			return err
		}
		b.cur.dests[k][a] = 0
	}
	b.draining[dk] = b.d.Clock.Now()
	return nil
}

// drain deletes the draining real servers that have no active connection
// left or whose grace period is over. It reads the destinations (cheap in
// IPVS) of only the services that have some draining.
func (b *Backend) drain() error {
	bySvc := map[ServiceKey][]netip.AddrPort{}
	for dk := range b.draining {
		bySvc[dk.svc] = append(bySvc[dk.svc], dk.addr)
	}
	var errs []error
	for k, addrs := range bySvc {
		errs = append(errs, b.drainService(k, addrs))
	}
	return errors.Join(errs...)
}

func (b *Backend) drainService(k ServiceKey, addrs []netip.AddrPort) error {
	rss, err := b.d.Handle.ListDestinations(k)
	if err != nil {
		return err
	}
	active := map[netip.AddrPort]int{}
	for _, rs := range rss {
		active[rs.Addr] = rs.ActiveConns
	}
	var errs []error
	for _, a := range addrs {
		dk := destKey{k, a}
		n, present := active[a]
		if present && n > 0 && b.d.Clock.Since(b.draining[dk]) < b.cfg.GracePeriod {
			continue
		}
		if present {
			if err := b.d.Handle.DelDestination(k, a); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		delete(b.draining, dk)
		delete(b.cur.dests[k], a)
	}
	return errors.Join(errs...)
}

// Draining is how many removed real servers wait for their connections.
func (b *Backend) Draining() int { return len(b.draining) }
