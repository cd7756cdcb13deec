package ipvs

import (
	"fmt"
	"maps"
	"slices"
)

// Sysctl is one kernel setting: Key in dotted form (net.ipv4.vs.conntrack),
// Value as written to its /proc/sys file.
type Sysctl struct {
	Key, Value string
}

// RequiredSysctls are the settings IPVS mode needs in its netns:
//   - net.ipv4.vs.conntrack=1: IPVS connections get conntrack entries, so
//     the companion "-m ipvs ... MASQUERADE" rules see them (node-port
//     traffic to a pod on another node, hairpin);
//   - net.ipv4.vs.conn_reuse_mode=0: a reused client port keeps going to
//     its real server instead of stalling on a rescheduled one;
//   - net.ipv4.vs.expire_nodest_conn=1: connections to a deleted real
//     server are dropped at once, so the client retries elsewhere;
//   - net.ipv4.vs.expire_quiescent_template=1: affinity (persistence)
//     templates pointing at a weight-0 real server expire, so sticky
//     clients move off an endpoint that is draining.
func RequiredSysctls() []Sysctl {
	return []Sysctl{
		{"net.ipv4.vs.conntrack", "1"},
		{"net.ipv4.vs.conn_reuse_mode", "0"},
		{"net.ipv4.vs.expire_nodest_conn", "1"},
		{"net.ipv4.vs.expire_quiescent_template", "1"},
	}
}

// SysctlWriter sets kernel settings (the real one writes /proc/sys in the
// backend's netns, see sysctl_linux.go).
type SysctlWriter interface {
	// Write sets key (dotted form) to value.
	Write(key, value string) error
}

// SetSysctls writes every RequiredSysctls setting through w, in order,
// stopping at the first failure, which names the key.
func SetSysctls(w SysctlWriter) error {
	for _, s := range RequiredSysctls() {
		if err := w.Write(s.Key, s.Value); err != nil {
			return fmt.Errorf("set sysctl %s=%s (needed by IPVS mode): %w", s.Key, s.Value, err)
		}
	}
	return nil
}

// FakeSysctl records what is written: Values by key, Writes as
// "key=value" in order. A key in Fail makes its write fail.
type FakeSysctl struct {
	Values map[string]string
	Writes []string
	Fail   map[string]error
}

var _ SysctlWriter = &FakeSysctl{}

// NewFakeSysctl is an empty FakeSysctl.
func NewFakeSysctl() *FakeSysctl {
	return &FakeSysctl{Values: map[string]string{}, Fail: map[string]error{}}
}

// Write records key=value unless Fail holds an error for key.
func (f *FakeSysctl) Write(key, value string) error {
	if err := f.Fail[key]; err != nil {
		return err
	}
	f.Values[key] = value
	f.Writes = append(f.Writes, key+"="+value)
	return nil
}

// Keys are the keys written, sorted.
func (f *FakeSysctl) Keys() []string { return slices.Sorted(maps.Keys(f.Values)) }
