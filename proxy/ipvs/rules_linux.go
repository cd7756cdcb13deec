package ipvs

import (
	"fmt"

	"github.com/coreos/go-iptables/iptables"

	"github.com/nodeagent/nodeagent/internal/nsutil"
)

// iptablesRules is the real Rules. go-iptables runs the iptables binary; in
// another netns each call runs on a throwaway thread inside it (a child
// process inherits the forking thread's namespace).
type iptablesRules struct {
	netnsPath string
	ipt       *iptables.IPTables
}

var _ Rules = &iptablesRules{}

// NewRules finds the iptables binary and runs it in the netns at
// netnsPath ("": the caller's).
func NewRules(netnsPath string) (Rules, error) {
	r := &iptablesRules{netnsPath: netnsPath}
	err := r.in(func() (err error) {
		r.ipt, err = iptables.New()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("iptables: %w", err)
	}
	return r, nil
}

func (r *iptablesRules) in(fn func() error) error {
	if r.netnsPath == "" {
		return fn()
	}
	return nsutil.Do(r.netnsPath, fn)
}

func (r *iptablesRules) Ensure(chains []Chain) error {
	return r.in(func() error {
		for _, c := range chains {
			if err := r.ensureChain(c); err != nil {
				return err
			}
		}
		return nil
	})
}

func (r *iptablesRules) ensureChain(c Chain) error {
	if r.upToDate(c) {
		return nil
	}
	// ClearChain creates the chain or flushes it: then refill it whole.
	if err := r.ipt.ClearChain(c.Table, c.Name); err != nil {
		return fmt.Errorf("flush %s/%s: %w", c.Table, c.Name, err)
	}
	for _, spec := range c.Rules {
		if err := r.ipt.Append(c.Table, c.Name, spec...); err != nil {
			return fmt.Errorf("add to %s/%s %q: %w", c.Table, c.Name, SpecString(spec), err)
		}
	}
	ok, err := r.ipt.Exists(c.Table, c.From, c.JumpSpec()...)
	if err == nil && !ok {
		err = r.ipt.Insert(c.Table, c.From, 1, c.JumpSpec()...)
	}
	return wrap(err, "jump from %s/%s to %s", c.Table, c.From, c.Name)
}

// upToDate says whether c exists with exactly its rules (by count and by
// `iptables -C` of each) and the jump to it, so that a periodic full sync
// does not flush masquerade rules that are already right.
func (r *iptablesRules) upToDate(c Chain) bool {
	listed, err := r.ipt.List(c.Table, c.Name) // "-N chain" then one line per rule
	if err != nil || len(listed) != len(c.Rules)+1 {
		return false
	}
	for _, spec := range c.Rules {
		if ok, err := r.ipt.Exists(c.Table, c.Name, spec...); err != nil || !ok {
			return false
		}
	}
	ok, err := r.ipt.Exists(c.Table, c.From, c.JumpSpec()...)
	return err == nil && ok
}

func (r *iptablesRules) Cleanup() error {
	return r.in(func() error {
		for _, c := range FixedChains() {
			if err := r.cleanupChain(c); err != nil {
				return err
			}
		}
		return nil
	})
}

func (r *iptablesRules) cleanupChain(c Chain) error {
	ok, err := r.ipt.ChainExists(c.Table, c.Name)
	if err != nil || !ok {
		return wrap(err, "look up %s/%s", c.Table, c.Name)
	}
	if err := r.ipt.DeleteIfExists(c.Table, c.From, c.JumpSpec()...); err != nil {
		return fmt.Errorf("delete jump from %s/%s to %s: %w", c.Table, c.From, c.Name, err)
	}
	return wrap(r.ipt.ClearAndDeleteChain(c.Table, c.Name), "delete %s/%s", c.Table, c.Name)
}
