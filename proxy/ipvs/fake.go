package ipvs

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"k8s.io/utils/clock"
)

// FakeHandle is an in-memory IPVS table that behaves as the kernel's does
// for the calls in Handle (errors for duplicates and missing objects).
// Writes are logged in Ops; tests set connection counts with SetConns.
type FakeHandle struct {
	mu       sync.Mutex
	services map[ServiceKey]VirtualServer
	dests    map[ServiceKey]map[netip.AddrPort]RealServer
	// Ops are the writes in order, e.g. "new-dest 10.96.0.1:80/TCP 10.244.0.5:8080 w=1".
	Ops []string
	// Reads counts list calls.
	Reads int
	// Err, if set, is returned by every call.
	Err error
}

var _ Handle = &FakeHandle{}

// NewFakeHandle returns an empty table.
func NewFakeHandle() *FakeHandle {
	return &FakeHandle{services: map[ServiceKey]VirtualServer{}, dests: map[ServiceKey]map[netip.AddrPort]RealServer{}}
}

func (f *FakeHandle) op(format string, args ...any) {
	f.Ops = append(f.Ops, fmt.Sprintf(format, args...))
}

// ListServices returns the services sorted.
func (f *FakeHandle) ListServices() ([]VirtualServer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Reads++
	out := make([]VirtualServer, 0, len(f.services))
	for _, k := range sortedKeys(f.services) {
		out = append(out, f.services[k])
	}
	return out, f.Err
}

func (f *FakeHandle) NewService(vs VirtualServer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.services[vs.ServiceKey]; ok || f.Err != nil {
		return f.fail("service %s exists", vs.ServiceKey)
	}
	f.services[vs.ServiceKey] = vs
	f.dests[vs.ServiceKey] = map[netip.AddrPort]RealServer{}
	f.op("new-service %s", describe(vs))
	return nil
}

func (f *FakeHandle) UpdateService(vs VirtualServer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.services[vs.ServiceKey]; !ok || f.Err != nil {
		return f.fail("no service %s", vs.ServiceKey)
	}
	f.services[vs.ServiceKey] = vs
	f.op("update-service %s", describe(vs))
	return nil
}

func (f *FakeHandle) DelService(k ServiceKey) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.services[k]; !ok || f.Err != nil {
		return f.fail("no service %s", k)
	}
	delete(f.services, k)
	delete(f.dests, k)
	f.op("del-service %s", k)
	return nil
}

// ListDestinations returns k's real servers sorted by address.
func (f *FakeHandle) ListDestinations(k ServiceKey) ([]RealServer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Reads++
	ds, ok := f.dests[k]
	if !ok || f.Err != nil {
		return nil, f.fail("no service %s", k)
	}
	out := make([]RealServer, 0, len(ds))
	for _, rs := range ds {
		out = append(out, rs)
	}
	slices.SortFunc(out, func(a, b RealServer) int { return a.Addr.Compare(b.Addr) })
	return out, nil
}

func (f *FakeHandle) NewDestination(k ServiceKey, rs RealServer) error {
	return f.setDest(k, rs, false)
}

func (f *FakeHandle) UpdateDestination(k ServiceKey, rs RealServer) error {
	return f.setDest(k, rs, true)
}

func (f *FakeHandle) setDest(k ServiceKey, rs RealServer, update bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	ds, ok := f.dests[k]
	if !ok || f.Err != nil {
		return f.fail("no service %s", k)
	}
	old, exists := ds[rs.Addr]
	if exists != update {
		return f.fail("destination %s of %s: exists=%v", rs.Addr, k, exists)
	}
	old.Addr, old.Weight = rs.Addr, rs.Weight // connection counts stay
	ds[rs.Addr] = old
	f.op("%s %s %s w=%d", map[bool]string{false: "new-dest", true: "update-dest"}[update], k, rs.Addr, rs.Weight)
	return nil
}

func (f *FakeHandle) DelDestination(k ServiceKey, a netip.AddrPort) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.dests[k][a]; !ok || f.Err != nil {
		return f.fail("no destination %s of %s", a, k)
	}
	delete(f.dests[k], a)
	f.op("del-dest %s %s", k, a)
	return nil
}

func (f *FakeHandle) Close() error { return nil }

func (f *FakeHandle) fail(format string, args ...any) error {
	if f.Err != nil {
		return f.Err
	}
	return fmt.Errorf("fake ipvs: "+format, args...)
}

// SetConns sets the connection counts of an existing real server.
func (f *FakeHandle) SetConns(k ServiceKey, a netip.AddrPort, active, inactive int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rs, ok := f.dests[k][a]
	if !ok {
		panic(fmt.Sprintf("fake ipvs: SetConns on missing destination %s of %s", a, k))
	}
	rs.ActiveConns, rs.InactiveConns = active, inactive
	f.dests[k][a] = rs
}

// Targets are the real servers a new connection to k may reach (weight
// above 0), sorted; nil when k is not a virtual server.
func (f *FakeHandle) Targets(k ServiceKey) []netip.AddrPort {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []netip.AddrPort
	for a, rs := range f.dests[k] {
		if rs.Weight > 0 {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, netip.AddrPort.Compare)
	return out
}

// ResetOps forgets the logged writes and reads.
func (f *FakeHandle) ResetOps() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Ops, f.Reads = nil, 0
}

// Dump is the table as ipvsadm -Ln would show it, sorted: one line per
// service, one indented line per real server.
func (f *FakeHandle) Dump() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, k := range sortedKeys(f.services) {
		fmt.Fprintf(&b, "%s\n", describe(f.services[k]))
		rss := make([]RealServer, 0, len(f.dests[k]))
		for _, rs := range f.dests[k] {
			rss = append(rss, rs)
		}
		slices.SortFunc(rss, func(a, b RealServer) int { return a.Addr.Compare(b.Addr) })
		for _, rs := range rss {
			fmt.Fprintf(&b, "  -> %s w=%d active=%d\n", rs.Addr, rs.Weight, rs.ActiveConns)
		}
	}
	return b.String()
}

func describe(vs VirtualServer) string {
	s := fmt.Sprintf("%s %s", vs.ServiceKey, vs.Scheduler)
	if vs.Persistent {
		s += fmt.Sprintf(" persistent %d", vs.Timeout)
	}
	return s
}

// FakeLinks is an in-memory dummy link with its addresses.
type FakeLinks struct {
	mu    sync.Mutex
	Exist bool
	Addrs map[netip.Addr]bool
	// Ops are the writes in order ("add-addr 10.96.0.1", ...).
	Ops []string
}

var _ Links = &FakeLinks{}

// NewFakeLinks starts with no link.
func NewFakeLinks() *FakeLinks { return &FakeLinks{Addrs: map[netip.Addr]bool{}} }

func (f *FakeLinks) EnsureLink() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.Exist {
		f.Exist = true
		f.Ops = append(f.Ops, "add-link")
	}
	return nil
}

func (f *FakeLinks) DeleteLink() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Exist {
		f.Ops = append(f.Ops, "del-link")
	}
	f.Exist = false
	clear(f.Addrs)
	return nil
}

// ListAddrs returns the bound addresses sorted.
func (f *FakeLinks) ListAddrs() ([]netip.Addr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []netip.Addr
	for a := range f.Addrs {
		out = append(out, a)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out, nil
}

func (f *FakeLinks) AddAddr(a netip.Addr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.Exist {
		return fmt.Errorf("fake links: bind %s: link %s is missing", a, LinkName)
	}
	f.Addrs[a] = true
	f.Ops = append(f.Ops, "add-addr "+a.String())
	return nil
}

func (f *FakeLinks) DelAddr(a netip.Addr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Addrs[a] {
		f.Ops = append(f.Ops, "del-addr "+a.String())
	}
	delete(f.Addrs, a)
	return nil
}

func (f *FakeLinks) Close() error { return nil }

// FakeRules keeps iptables tables in memory: per table, chains with their
// rules in order (built-in chains appear once something jumps from them).
type FakeRules struct {
	mu     sync.Mutex
	Tables map[string]map[string][]string
}

var _ Rules = &FakeRules{}

// NewFakeRules starts empty.
func NewFakeRules() *FakeRules { return &FakeRules{Tables: map[string]map[string][]string{}} }

func (f *FakeRules) Ensure(chains []Chain) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range chains {
		t := f.table(c.Table)
		t[c.Name] = make([]string, 0, len(c.Rules))
		for _, spec := range c.Rules {
			t[c.Name] = append(t[c.Name], SpecString(spec))
		}
		jump := SpecString(c.JumpSpec())
		if !slices.Contains(t[c.From], jump) {
			t[c.From] = append([]string{jump}, t[c.From]...)
		}
	}
	return nil
}

func (f *FakeRules) Cleanup() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range FixedChains() {
		t := f.table(c.Table)
		jump := SpecString(c.JumpSpec())
		t[c.From] = slices.DeleteFunc(t[c.From], func(r string) bool { return r == jump })
		delete(t, c.Name)
	}
	return nil
}

func (f *FakeRules) table(name string) map[string][]string {
	if f.Tables[name] == nil {
		f.Tables[name] = map[string][]string{}
	}
	return f.Tables[name]
}

// Save is the tables in iptables-save's -A form, sorted by table and chain.
func (f *FakeRules) Save() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, tn := range sortedStrings(f.Tables) {
		fmt.Fprintf(&b, "*%s\n", tn)
		for _, cn := range sortedStrings(f.Tables[tn]) {
			for _, r := range f.Tables[tn][cn] {
				fmt.Fprintf(&b, "-A %s %s\n", cn, r)
			}
		}
	}
	return b.String()
}

// OwnChains lists the chains whose name starts with ChainPrefix.
func (f *FakeRules) OwnChains() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for tn, t := range f.Tables {
		for cn := range t {
			if strings.HasPrefix(cn, ChainPrefix) {
				out = append(out, tn+"/"+cn)
			}
		}
	}
	slices.Sort(out)
	return out
}

func sortedStrings[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// NewFake is a backend on fresh fakes (its FakeSets in b.d.Sets).
func NewFake(cfg Config, clk clock.PassiveClock) (*Backend, *FakeHandle, *FakeLinks, *FakeRules, error) {
	h, l, r, s := NewFakeHandle(), NewFakeLinks(), NewFakeRules(), NewFakeSets()
	s.Refs = func(name string) bool { return strings.Contains(r.Save(), "--match-set "+name+" ") }
	b, err := New(cfg, Deps{Handle: h, Links: l, Rules: r, Sets: s, Clock: clk})
	return b, h, l, r, err
}

// FakeSets keeps ipsets in memory: each existing set's type and entries.
// Refs, when set, makes DestroySet fail while it returns true for the set
// (a rule still refers to it, as the kernel refuses).
type FakeSets struct {
	mu    sync.Mutex
	types map[string]string
	sets  map[string]map[Entry]bool
	Refs  func(name string) bool
}

var _ Sets = &FakeSets{}

// NewFakeSets is an empty fake with no set.
func NewFakeSets() *FakeSets {
	return &FakeSets{types: map[string]string{}, sets: map[string]map[Entry]bool{}}
}

func (f *FakeSets) EnsureSet(s SetSpec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.types[s.Name]; ok && t != s.Type {
		return fmt.Errorf("create ipset %s (%s): exists with type %s", s.Name, s.Type, t)
	}
	if _, ok := f.sets[s.Name]; !ok {
		f.types[s.Name], f.sets[s.Name] = s.Type, map[Entry]bool{}
	}
	return nil
}

// Entries lists the set sorted.
func (f *FakeSets) Entries(s SetSpec) ([]Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	set, ok := f.sets[s.Name]
	if !ok {
		return nil, fmt.Errorf("ipset %s does not exist", s.Name)
	}
	out := make([]Entry, 0, len(set))
	for e := range set {
		out = append(out, e)
	}
	slices.SortFunc(out, compareEntries)
	return out, nil
}

func (f *FakeSets) Add(s SetSpec, e Entry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.sets[s.Name]; !ok {
		return fmt.Errorf("add %s: ipset %s does not exist", s.Format(e), s.Name)
	}
	f.sets[s.Name][e] = true
	return nil
}

func (f *FakeSets) Del(s SetSpec, e Entry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.sets[s.Name][e] {
		return fmt.Errorf("delete %s: not in ipset %s", s.Format(e), s.Name)
	}
	delete(f.sets[s.Name], e)
	return nil
}

func (f *FakeSets) DestroySet(s SetSpec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.sets[s.Name]; ok && f.Refs != nil && f.Refs(s.Name) {
		return fmt.Errorf("destroy ipset %s: still referenced by a rule", s.Name)
	}
	delete(f.sets, s.Name)
	delete(f.types, s.Name)
	return nil
}

// Names lists the sets that exist, sorted.
func (f *FakeSets) Names() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return sortedStrings(f.sets)
}
