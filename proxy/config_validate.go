package proxy

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/utils/clock"
)

// Validate reports a backend configuration the proxy cannot program,
// naming the flag.
func (c Config) Validate() error {
	if c.MasqueradeBit < 0 || c.MasqueradeBit > 31 {
		return fmt.Errorf("--masquerade-bit: %d is not a bit of the packet mark (0-31)", c.MasqueradeBit)
	}
	return nil
}

// Validate reports timings the sync loop cannot run with, naming the flag.
func (c RunnerConfig) Validate() error {
	var errs []error
	if c.MinSyncInterval < 0 {
		errs = append(errs, fmt.Errorf("--proxy-min-sync-interval: must not be negative, got %s", c.MinSyncInterval))
	}
	if c.FullSyncInterval <= 0 {
		errs = append(errs, fmt.Errorf("--proxy-full-sync-interval: must be positive, got %s", c.FullSyncInterval))
	}
	if c.FullSyncBudget < 1 {
		errs = append(errs, fmt.Errorf("FullSyncBudget: must be at least 1, got %d", c.FullSyncBudget))
	}
	return errors.Join(errs...)
}

// withDefaults fills what no flag sets: the clock, how often the node's
// addresses are read, the full sync budget.
func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.NodeIPInterval == 0 {
		o.NodeIPInterval = 10 * time.Second
	}
	if o.Runner.FullSyncBudget == 0 {
		o.Runner.FullSyncBudget = DefaultRunnerConfig().FullSyncBudget
	}
	return o
}

// Validate reports options the proxy cannot run with, naming the flag.
func (o Options) Validate() error {
	var errs []error
	if o.NodeName == "" {
		errs = append(errs, errors.New("--node-name: the proxy needs the node's name (its endpoints are the local ones)"))
	}
	if o.NodeIPInterval <= 0 {
		errs = append(errs, fmt.Errorf("NodeIPInterval: must be positive, got %s", o.NodeIPInterval))
	}
	for _, ip := range o.NodeIPs {
		if !ip.IsValid() {
			errs = append(errs, errors.New("--nodeport-addresses: an address is not valid"))
		}
	}
	return errors.Join(append(errs, o.Runner.Validate())...)
}
