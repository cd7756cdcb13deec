// Package pleg turns the runtime's lifecycle events into "this pod changed"
// notifications: every containerd event (task start, exit, OOM, container
// create and delete) wakes exactly the affected pod's worker. A slow relist
// (default every 60 s) compares the runtime's containers with the last view
// and reports the pods that changed; it is the safety net, and it runs at
// once whenever the event stream breaks (containerd restarted), after which
// the stream is opened again with back-off.
//
// It programs nothing in the kernel and keeps no state on disk.
package pleg

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/nodeagent/nodeagent/cri"
)

// Notify is called with the UID of a pod whose runtime state changed.
type Notify func(podUID string)

// RelistObserver hears about every relist: when it started and how long it
// took (the agent's metrics, kubelet's kubelet_pleg_*).
type RelistObserver interface {
	ObserveRelist(start time.Time, took time.Duration)
}

type nopRelistObserver struct{}

func (nopRelistObserver) ObserveRelist(time.Time, time.Duration) {}

// PLEG watches the runtime for one node.
type PLEG struct {
	rt     cri.Runtime
	notify Notify
	relist time.Duration
	obs    RelistObserver
	log    *slog.Logger
	now    func() time.Time

	mu        sync.Mutex
	last      map[string]string // container id -> state, from the last relist
	owners    map[string]string // container id -> pod uid, from the last relist
	connected bool
	attempted bool // a connection to the event stream was tried
	lastEvent time.Time
	lastList  time.Time
}

// New returns a PLEG that calls notify; relist is the safety-net period,
// obs (nil: none) hears about each relist.
func New(rt cri.Runtime, notify Notify, relist time.Duration, obs RelistObserver, log *slog.Logger) *PLEG {
	if obs == nil {
		obs = nopRelistObserver{}
	}
	return &PLEG{rt: rt, notify: notify, relist: relist, obs: obs, log: log, now: time.Now,
		last: map[string]string{}, owners: map[string]string{}}
}

// Run follows events and relists until ctx ends.
func (p *PLEG) Run(ctx context.Context) {
	go p.relistLoop(ctx)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		events, err := p.rt.Events(ctx)
		if err == nil {
			p.setConnected(true)
			backoff = 100 * time.Millisecond
			p.Relist(ctx) // catch what happened while not connected
			p.follow(ctx, events)
		} else {
			p.log.Warn("runtime event stream unavailable", "err", err)
		}
		p.setConnected(false)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (p *PLEG) follow(ctx context.Context, events <-chan cri.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				p.log.Warn("runtime event stream broke; relisting")
				p.Relist(ctx)
				return
			}
			p.mu.Lock()
			p.lastEvent = p.now()
			p.mu.Unlock()
			if ev.PodUID != "" {
				p.notify(ev.PodUID)
			}
		}
	}
}

func (p *PLEG) relistLoop(ctx context.Context) {
	t := time.NewTicker(p.relist)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.Relist(ctx)
		}
	}
}

// Relist lists the runtime's containers and sandboxes and notifies the pods
// whose containers appeared, disappeared or changed state since last time.
func (p *PLEG) Relist(ctx context.Context) {
	start := p.now()
	defer func() { p.obs.ObserveRelist(start, p.now().Sub(start)) }()
	cs, err := p.rt.ListContainers(ctx, nil)
	if err != nil {
		p.log.Warn("relist failed", "err", err)
		return
	}
	sbs, err := p.rt.ListPodSandboxes(ctx, nil)
	if err != nil {
		p.log.Warn("relist failed", "err", err)
		return
	}
	now, owners := snapshot(cs, sbs)
	p.mu.Lock()
	for id, uid := range p.owners {
		if _, ok := owners[id]; !ok {
			owners[id] = uid // removed since: its last owner
		}
	}
	changed := diff(p.last, now, owners)
	p.last, p.lastList = now, p.now()
	p.owners, _ = snapshotOwners(now, owners)
	p.mu.Unlock()
	for uid := range changed {
		p.notify(uid)
	}
}

// snapshot maps each container and sandbox to its state and its pod.
func snapshot(cs []cri.Container, sbs []cri.Sandbox) (map[string]string, map[string]string) {
	state, owner := map[string]string{}, map[string]string{}
	for _, c := range cs {
		state[c.ID] = string(c.State)
		owner[c.ID] = c.Labels[cri.LabelPodUID]
	}
	for _, s := range sbs {
		state[s.ID] = string(s.State)
		owner[s.ID] = s.Labels[cri.LabelPodUID]
	}
	return state, owner
}

// diff returns the pods with a container whose state differs between two
// snapshots; owners must cover both (removed ids keep their last owner).
func diff(before, after, owners map[string]string) map[string]bool {
	changed := map[string]bool{}
	for id, st := range after {
		if before[id] != st && owners[id] != "" {
			changed[owners[id]] = true
		}
	}
	for id := range before {
		if _, ok := after[id]; !ok {
			changed[owners[id]] = true
		}
	}
	delete(changed, "")
	return changed
}

// snapshotOwners keeps the owners of the ids that still exist.
func snapshotOwners(state, owners map[string]string) (map[string]string, int) {
	out := map[string]string{}
	for id := range state {
		out[id] = owners[id]
	}
	return out, len(out)
}

func (p *PLEG) setConnected(v bool) {
	p.mu.Lock()
	p.connected, p.attempted = v, true
	p.mu.Unlock()
}

// Healthy reports whether the event stream is connected (or not tried yet)
// and a relist ran within three periods.
func (p *PLEG) Healthy() (bool, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.connected && p.attempted {
		return false, "runtime event stream is not connected"
	}
	if !p.lastList.IsZero() && p.now().Sub(p.lastList) > 3*p.relist {
		return false, "relist has not run for " + p.now().Sub(p.lastList).String()
	}
	return true, ""
}
