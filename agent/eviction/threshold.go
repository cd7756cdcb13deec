package eviction

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Threshold is one eviction threshold: the signal is crossed when what is
// available drops below Value.
type Threshold struct {
	Signal Signal
	Value  Value
	// GracePeriod is how long a soft threshold must stay crossed before
	// it evicts; 0: a hard threshold, which evicts at once.
	GracePeriod time.Duration
	// MinReclaim is how far above Value the signal must come back before
	// the threshold counts as no longer crossed (nil: not at all).
	MinReclaim *Value
}

// Value is a quantity, or a share (0-1) of the signal's capacity.
type Value struct {
	Quantity   *resource.Quantity
	Percentage float64
}

// quantity is the value as a quantity of capacity.
func (v Value) quantity(capacity *resource.Quantity) *resource.Quantity {
	if v.Quantity != nil {
		return v.Quantity
	}
	return resource.NewQuantity(int64(v.Percentage*float64(capacity.Value())), resource.BinarySI)
}

// String is the value as a flag spells it.
func (v Value) String() string {
	if v.Quantity != nil {
		return v.Quantity.String()
	}
	return strconv.FormatFloat(v.Percentage*100, 'g', 6, 64) + "%"
}

// IsHard says whether the threshold evicts without a grace period.
func (t Threshold) IsHard() bool { return t.GracePeriod == 0 }

// DefaultEvictionHard is kubelet's --eviction-hard default (Linux).
func DefaultEvictionHard() map[string]string {
	return map[string]string{"memory.available": "100Mi", "nodefs.available": "10%", "nodefs.inodesFree": "5%",
		"imagefs.available": "15%", "imagefs.inodesFree": "5%"}
}

// ParseThresholds reads the thresholds from kubelet's flags: --eviction-hard
// and --eviction-soft ("memory.available<100Mi,nodefs.available<10%" as
// maps), --eviction-soft-grace-period (a duration for each soft signal) and
// --eviction-minimum-reclaim. A memory.available hard threshold also
// watches allocatableMemory.available, as kubelet's does when node
// allocatable is enforced on the pods' cgroup. Errors are kubelet's.
func ParseThresholds(hard, soft, softGrace, minReclaim map[string]string) ([]Threshold, error) {
	hs, err := parseStatements(hard)
	if err != nil {
		return nil, err
	}
	ss, err := parseStatements(soft)
	if err != nil {
		return nil, err
	}
	graces, err := parseGracePeriods(softGrace)
	if err != nil {
		return nil, err
	}
	for i := range ss {
		g, ok := graces[ss[i].Signal]
		if !ok {
			return nil, fmt.Errorf("grace period must be specified for the soft eviction threshold %v", ss[i].Signal)
		}
		ss[i].GracePeriod = g
	}
	reclaims, err := parseMinReclaims(minReclaim)
	if err != nil {
		return nil, err
	}
	out := append(hs, ss...)
	for i := range out {
		if r, ok := reclaims[out[i].Signal]; ok {
			out[i].MinReclaim = &r
		}
	}
	return withAllocatable(out), nil
}

func withAllocatable(ts []Threshold) []Threshold {
	out := ts
	for _, t := range ts {
		if t.Signal == SignalMemoryAvailable && t.IsHard() {
			out = append(out, Threshold{Signal: SignalAllocatableMemoryAvailable, Value: t.Value, MinReclaim: t.MinReclaim})
		}
	}
	return out
}

// parseStatements parses signal → value statements, in a stable order.
func parseStatements(m map[string]string) ([]Threshold, error) {
	var out []Threshold
	for _, sig := range sortedKeys(m) {
		t, err := parseStatement(Signal(sig), m[sig])
		if err != nil {
			return nil, err
		}
		if t != nil {
			out = append(out, *t)
		}
	}
	return out, nil
}

// parseStatement parses one threshold; 0% and 100% mean none.
func parseStatement(sig Signal, val string) (*Threshold, error) {
	if _, ok := signalResource[sig]; !ok || sig == SignalAllocatableMemoryAvailable {
		return nil, fmt.Errorf("unsupported eviction signal %v", sig)
	}
	if strings.HasSuffix(val, "%") {
		if val == "0%" || val == "100%" {
			return nil, nil
		}
		p, err := parsePercentage(val)
		if err != nil {
			return nil, err
		}
		if p < 0 {
			return nil, fmt.Errorf("eviction percentage threshold %v must be >= 0%%: %s", sig, val)
		}
		if p > 1 {
			return nil, fmt.Errorf("eviction percentage threshold %v must be <= 100%%: %s", sig, val)
		}
		return &Threshold{Signal: sig, Value: Value{Percentage: p}}, nil
	}
	q, err := resource.ParseQuantity(val)
	if err != nil {
		return nil, err
	}
	if q.Sign() <= 0 {
		return nil, fmt.Errorf("eviction threshold %v must be positive: %s", sig, &q)
	}
	return &Threshold{Signal: sig, Value: Value{Quantity: &q}}, nil
}

func parsePercentage(val string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSuffix(val, "%"), 64)
	if err != nil || math.IsNaN(f) {
		return 0, fmt.Errorf("invalid percentage %q", val)
	}
	return f / 100, nil
}

func parseGracePeriods(m map[string]string) (map[Signal]time.Duration, error) {
	out := map[Signal]time.Duration{}
	for sig, val := range m {
		if _, ok := signalResource[Signal(sig)]; !ok {
			return nil, fmt.Errorf("unsupported eviction signal %v", sig)
		}
		d, err := time.ParseDuration(val)
		if err != nil {
			return nil, err
		}
		if d < 0 {
			return nil, fmt.Errorf("invalid eviction grace period specified: %v, must be a positive value", val)
		}
		out[Signal(sig)] = d
	}
	return out, nil
}

func parseMinReclaims(m map[string]string) (map[Signal]Value, error) {
	out := map[Signal]Value{}
	for sig, val := range m {
		if _, ok := signalResource[Signal(sig)]; !ok {
			return nil, fmt.Errorf("unsupported eviction signal %v", sig)
		}
		if strings.HasSuffix(val, "%") {
			p, err := parsePercentage(val)
			if err != nil {
				return nil, err
			}
			if p <= 0 {
				return nil, fmt.Errorf("eviction percentage minimum reclaim %v must be positive: %s", sig, val)
			}
			out[Signal(sig)] = Value{Percentage: p}
			continue
		}
		q, err := resource.ParseQuantity(val)
		if err != nil {
			return nil, err
		}
		if q.Sign() < 0 {
			return nil, fmt.Errorf("negative eviction minimum reclaim specified for %v", sig)
		}
		out[Signal(sig)] = Value{Quantity: &q}
	}
	return out, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// thresholdsMet are the thresholds whose signal is below them (plus their
// minimum reclaim when withMinReclaim); a signal not observed meets none.
func thresholdsMet(ts []Threshold, obs observations, withMinReclaim bool) []Threshold {
	var out []Threshold
	for _, t := range ts {
		o, ok := obs[t.Signal]
		if !ok {
			continue
		}
		q := t.Value.quantity(o.capacity).DeepCopy()
		if withMinReclaim && t.MinReclaim != nil {
			q.Add(*t.MinReclaim.quantity(o.capacity))
		}
		if o.available.Cmp(q) < 0 {
			out = append(out, t)
		}
	}
	return out
}

// thresholdKey names a threshold: a signal has at most one hard and one
// soft threshold.
type thresholdKey struct {
	signal Signal
	hard   bool
}

func keyOf(t Threshold) thresholdKey { return thresholdKey{t.Signal, t.IsHard()} }

// mergeThresholds is a's thresholds and those of b not in a.
func mergeThresholds(a, b []Threshold) []Threshold {
	seen := map[thresholdKey]bool{}
	for _, t := range a {
		seen[keyOf(t)] = true
	}
	out := append([]Threshold(nil), a...)
	for _, t := range b {
		if !seen[keyOf(t)] {
			out = append(out, t)
		}
	}
	return out
}
