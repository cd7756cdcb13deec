package ipvs

import (
	"cmp"
	"errors"
	"net/netip"
	"slices"
)

// apply sends the difference between b.cur and want, updating b.cur as
// each step succeeds. Addresses are bound before the services that use
// them and unbound after.
func (b *Backend) apply(want Desired) error {
	errs := []error{b.bindAddrs(want.Addrs)}
	for _, k := range sortedKeys(want.Services) {
		if err := b.applyService(want.Services[k]); err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, b.applyDests(k, want.Dests[k]))
	}
	errs = append(errs, b.deleteServices(want.Services), b.unbindAddrs(want.Addrs), b.drain(), b.applySets(want.Sets))
	return errors.Join(errs...)
}

// applySets adds to each set of OwnSets the entries it lacks and deletes
// those no longer wanted.
func (b *Backend) applySets(want map[string][]Entry) error {
	var errs []error
	for _, set := range OwnSets() {
		errs = append(errs, b.applySet(set, want[set.Name]))
	}
	return errors.Join(errs...)
}

func (b *Backend) applySet(set SetSpec, want []Entry) error {
	have := b.cur.sets[set.Name]
	var errs []error
	for _, e := range want {
		if have[e] {
			continue
		}
		if err := b.d.Sets.Add(set, e); err != nil {
			errs = append(errs, err)
			continue
		}
		have[e] = true
	}
	for e := range have {
		if _, keep := slices.BinarySearchFunc(want, e, compareEntries); keep {
			continue
		}
		if err := b.d.Sets.Del(set, e); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(have, e)
	}
	return errors.Join(errs...)
}

func (b *Backend) bindAddrs(want []netip.Addr) error {
	var errs []error
	for _, a := range want {
		if b.cur.addrs[a] {
			continue
		}
		if err := b.d.Links.AddAddr(a); err != nil {
			errs = append(errs, err)
			continue
		}
		b.cur.addrs[a] = true
	}
	return errors.Join(errs...)
}

func (b *Backend) unbindAddrs(want []netip.Addr) error {
	var errs []error
	for a := range b.cur.addrs {
		if _, keep := slices.BinarySearchFunc(want, a, netip.Addr.Compare); keep {
			continue
		}
		if err := b.d.Links.DelAddr(a); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(b.cur.addrs, a)
	}
	return errors.Join(errs...)
}

// applyService creates vs or updates its scheduler and persistence.
func (b *Backend) applyService(vs VirtualServer) error {
	have, ok := b.cur.services[vs.ServiceKey]
	switch {
	case !ok:
		if err := b.d.Handle.NewService(vs); err != nil {
			return err
		}
		b.cur.dests[vs.ServiceKey] = map[netip.AddrPort]int{}
	case have != vs:
		if err := b.d.Handle.UpdateService(vs); err != nil {
			return err
		}
	}
	b.cur.services[vs.ServiceKey] = vs
	return nil
}

// applyDests adds the real servers k lacks, brings back draining ones that
// are wanted again and starts draining those no longer wanted.
func (b *Backend) applyDests(k ServiceKey, want []netip.AddrPort) error {
	have := b.cur.dests[k]
	var errs []error
	for _, a := range want {
		w, ok := have[a]
		var err error
		switch {
		case !ok:
			err = b.d.Handle.NewDestination(k, RealServer{Addr: a, Weight: 1})
		case w != 1:
			err = b.d.Handle.UpdateDestination(k, RealServer{Addr: a, Weight: 1})
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		have[a] = 1
		delete(b.draining, destKey{k, a})
	}
	for a, w := range have {
		if _, keep := slices.BinarySearchFunc(want, a, netip.AddrPort.Compare); !keep {
			errs = append(errs, b.startDrain(k, a, w))
		}
	}
	return errors.Join(errs...)
}

// deleteServices removes at once the services no longer wanted, with
// their real servers (draining ones too).
func (b *Backend) deleteServices(want map[ServiceKey]VirtualServer) error {
	var errs []error
	for k := range b.cur.services {
		if _, keep := want[k]; keep {
			continue
		}
		if err := b.d.Handle.DelService(k); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(b.cur.services, k)
		delete(b.cur.dests, k)
		for dk := range b.draining {
			if dk.svc == k {
				delete(b.draining, dk)
			}
		}
	}
	return errors.Join(errs...)
}

func sortedKeys(m map[ServiceKey]VirtualServer) []ServiceKey {
	keys := make([]ServiceKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	return keys
}

func compareKeys(a, b ServiceKey) int {
	if c := a.Addr.Compare(b.Addr); c != 0 {
		return c
	}
	if a.Port != b.Port {
		return int(a.Port) - int(b.Port)
	}
	return cmp.Compare(a.Protocol, b.Protocol)
}
