package ipvs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/proxy"
)

// Schedulers this backend accepts for Config.Scheduler.
var schedulers = map[string]bool{"rr": true, "wrr": true, "lc": true, "wlc": true, "sh": true, "dh": true}

// Config is the IPVS backend's configuration.
type Config struct {
	proxy.Config
	// Scheduler is every virtual server's IPVS scheduler: "rr" (default,
	// round robin), "lc" (least connections), "sh" (source hashing), also
	// "wrr", "wlc", "dh".
	Scheduler string
	// GracePeriod is how long a removed real server keeps its connections
	// at weight 0 before it is deleted even if some are still active
	// (default 15 s).
	GracePeriod time.Duration
	// NetNSPath is the network namespace the backend programs ("": the
	// process's). IPVS state is per netns; the backend owns all of it there.
	NetNSPath string
	// NoMasqueradeBit is the packet-mark bit that, set in nat PREROUTING on
	// a connection to a node port, external IP or load-balancer IP of a
	// Service with externalTrafficPolicy Local, keeps it from being
	// masqueraded (default 13; it must differ from MasqueradeBit).
	NoMasqueradeBit int
}

// NoMasqueradeMark is the mark value of NoMasqueradeBit.
func (c Config) NoMasqueradeMark() uint32 { return 1 << uint(c.NoMasqueradeBit) }

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Config: proxy.DefaultConfig(), Scheduler: "rr", GracePeriod: 15 * time.Second, NoMasqueradeBit: 13}
}

// Deps are the backend's edges (real: NewReal; tests: the fakes).
type Deps struct {
	Handle Handle
	Links  Links
	Rules  Rules
	Sets   Sets
	Clock  clock.PassiveClock
	Logger *slog.Logger
}

// Backend is the IPVS proxy.Backend.
type Backend struct {
	cfg Config
	d   Deps
	// cur is what was last applied; nil: unknown, read it on the next Sync.
	cur *state
	// draining are removed real servers at weight 0, since when.
	draining map[destKey]time.Time
}

var _ proxy.Backend = &Backend{}

// New builds a backend on the given edges.
func New(cfg Config, d Deps) (*Backend, error) {
	if cfg.Scheduler == "" {
		cfg.Scheduler = "rr"
	}
	if !schedulers[cfg.Scheduler] {
		return nil, fmt.Errorf("ipvs: unknown scheduler %q (rr, wrr, lc, wlc, sh, dh)", cfg.Scheduler)
	}
	if cfg.NoMasqueradeBit < 0 || cfg.NoMasqueradeBit > 31 || cfg.NoMasqueradeBit == cfg.MasqueradeBit {
		return nil, fmt.Errorf("ipvs: no-masquerade bit %d: want a bit of the packet mark (0-31) other than the masquerade bit %d",
			cfg.NoMasqueradeBit, cfg.MasqueradeBit)
	}
	if cfg.GracePeriod <= 0 {
		cfg.GracePeriod = 15 * time.Second
	}
	if d.Handle == nil || d.Links == nil || d.Rules == nil || d.Sets == nil || d.Clock == nil {
		return nil, errors.New("ipvs: Handle, Links, Rules, Sets and Clock are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Backend{cfg: cfg, d: d, draining: map[destKey]time.Time{}}, nil
}

// Mode is "ipvs".
func (b *Backend) Mode() string { return "ipvs" }

// Sync makes the IPVS table, the dummy link's addresses and the companion
// rules match s. With full (and on the first sync, and after a failed one)
// it first ensures the link and rules and reads the handle's services and
// the link's addresses back once, so that the diff repairs any drift.
func (b *Backend) Sync(ctx context.Context, s *proxy.Snapshot, full bool) error {
	want := Compute(s, b.cfg.Scheduler)
	if full || b.cur == nil {
		if err := b.resync(); err != nil {
			b.cur = nil
			return err
		}
	}
	if err := b.apply(want); err != nil {
		b.cur = nil
		return fmt.Errorf("ipvs sync: %w", err)
	}
	b.d.Logger.Debug("ipvs synced", "full", full, "virtualServers", len(b.cur.services),
		"addresses", len(b.cur.addrs), "draining", len(b.draining))
	return nil
}

func (b *Backend) resync() error {
	if err := b.d.Links.EnsureLink(); err != nil {
		return err
	}
	for _, set := range OwnSets() { // before the rules that match them
		if err := b.d.Sets.EnsureSet(set); err != nil {
			return err
		}
	}
	if err := b.d.Rules.Ensure(CompanionRules(b.cfg)); err != nil {
		return err
	}
	st, err := readState(b.d.Handle, b.d.Links, b.d.Sets)
	if err != nil {
		return err
	}
	b.cur = st
	return nil
}

// Cleanup deletes every virtual server in the backend's netns, the dummy
// link (and so its addresses), the companion chains and then the ipsets
// they matched. It is idempotent.
func (b *Backend) Cleanup(ctx context.Context) error {
	err := errors.Join(deleteAllServices(b.d.Handle), b.d.Links.DeleteLink(), b.d.Rules.Cleanup())
	if err == nil {
		err = destroySets(b.d.Sets)
	}
	b.cur = nil
	clear(b.draining)
	return err
}

// deleteAllServices empties the handle's IPVS table (destinations go with
// their service).
func deleteAllServices(h Handle) error {
	svcs, err := h.ListServices()
	if err != nil {
		return err
	}
	var errs []error
	for _, vs := range svcs {
		errs = append(errs, h.DelService(vs.ServiceKey))
	}
	return errors.Join(errs...)
}

// state is what the backend believes is in the kernel.
type state struct {
	services map[ServiceKey]VirtualServer
	// dests are each service's real servers and their weights.
	dests map[ServiceKey]map[netip.AddrPort]int
	addrs map[netip.Addr]bool
	// sets are the entries of each set of OwnSets, by name.
	sets map[string]map[Entry]bool
}

func readState(h Handle, l Links, sets Sets) (*state, error) {
	st := &state{services: map[ServiceKey]VirtualServer{}, dests: map[ServiceKey]map[netip.AddrPort]int{},
		addrs: map[netip.Addr]bool{}, sets: map[string]map[Entry]bool{}}
	for _, set := range OwnSets() {
		entries, err := sets.Entries(set)
		if err != nil {
			return nil, err
		}
		st.sets[set.Name] = map[Entry]bool{}
		for _, e := range entries {
			st.sets[set.Name][e] = true
		}
	}
	svcs, err := h.ListServices()
	if err != nil {
		return nil, err
	}
	for _, vs := range svcs {
		st.services[vs.ServiceKey] = vs
		rss, err := h.ListDestinations(vs.ServiceKey)
		if err != nil {
			return nil, err
		}
		st.dests[vs.ServiceKey] = map[netip.AddrPort]int{}
		for _, rs := range rss {
			st.dests[vs.ServiceKey][rs.Addr] = rs.Weight
		}
	}
	addrs, err := l.ListAddrs()
	for _, a := range addrs {
		st.addrs[a] = true
	}
	return st, err
}
