package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/nodeagent/nodeagent/agent"
	"github.com/nodeagent/nodeagent/agent/cm"
)

// resourceFlags maps kubelet's resource management flags onto the
// agent's: the cgroup driver, node allocatable's reservations and the
// eviction thresholds, spelled and defaulted as kubelet's.
func resourceFlags(fs *flag.FlagSet, r *agent.ResourceConfig) {
	fs.Func("cgroup-driver", "cgroupfs or systemd (default: systemd when systemd runs the machine, else cgroupfs)", func(v string) error {
		d, err := cm.ParseDriver(v)
		r.CgroupDriver = d
		return err
	})
	fs.Func("system-reserved", "resources kept for the OS, e.g. cpu=100m,memory=100Mi,ephemeral-storage=1Gi,pid=1000", func(v string) (err error) {
		r.SystemReserved, err = cm.ParseReserved("system-reserved", v)
		return err
	})
	fs.Func("kube-reserved", "resources kept for the agent and the runtime, as --system-reserved", func(v string) (err error) {
		r.KubeReserved, err = cm.ParseReserved("kube-reserved", v)
		return err
	})
	e := &r.Eviction
	fs.Var(newMapFlag(&e.Hard, "<"), "eviction-hard", "hard eviction thresholds (default memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,imagefs.available<15%,imagefs.inodesFree<5%); setting it replaces the default")
	fs.Var(newMapFlag(&e.Soft, "<"), "eviction-soft", "soft eviction thresholds, e.g. memory.available<1.5Gi")
	fs.Var(newMapFlag(&e.SoftGracePeriod, "="), "eviction-soft-grace-period", "grace period of each soft threshold, e.g. memory.available=1m30s")
	fs.Var(newMapFlag(&e.MinimumReclaim, "="), "eviction-minimum-reclaim", "least to reclaim beyond a threshold once crossed, e.g. imagefs.available=2Gi")
	fs.DurationVar(&e.PressureTransitionPeriod, "eviction-pressure-transition-period", e.PressureTransitionPeriod, "how long a pressure condition stays after its threshold was last crossed")
	fs.Int64Var(&e.MaxPodGracePeriod, "eviction-max-pod-grace-period", e.MaxPodGracePeriod, "most seconds a pod evicted for a soft threshold is given to stop")
}

// mapFlag is a key<sep>value,... flag, as kubelet's map flags: the first
// use replaces the default map, later uses add to it.
type mapFlag struct {
	m   *map[string]string
	sep string
	set bool
}

func newMapFlag(m *map[string]string, sep string) *mapFlag { return &mapFlag{m: m, sep: sep} }

func (f *mapFlag) String() string {
	if f.m == nil {
		return ""
	}
	var parts []string
	for k, v := range *f.m {
		parts = append(parts, k+f.sep+v)
	}
	return strings.Join(parts, ",")
}

func (f *mapFlag) Set(v string) error {
	if !f.set {
		*f.m = map[string]string{}
		f.set = true
	}
	for _, kv := range strings.Split(v, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, val, ok := strings.Cut(kv, f.sep)
		if !ok || k == "" {
			return fmt.Errorf("%q: want key%svalue", kv, f.sep)
		}
		(*f.m)[strings.TrimSpace(k)] = strings.TrimSpace(val)
	}
	return nil
}
