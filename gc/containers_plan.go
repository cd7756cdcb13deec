package gc

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/nodeagent/nodeagent/cri"
)

// containerPolicy is what one container collection applies.
type containerPolicy struct {
	minAge             time.Duration
	maxPerPodContainer int // dead instances kept per container; negative: all
	maxContainers      int // dead containers kept on the node; negative: all
}

// containerPlan is what a container collection removes.
type containerPlan struct {
	containers []cri.Container // dead containers, oldest first
	sandboxes  []string        // sandboxes that are neither ready nor hold a container
}

// unitKey is kubelet's evict unit: one container of one pod.
type unitKey struct{ uid, name string }

// unit is the instances of one container, newest first; the newest one of
// a pod that exists is kept whatever its state.
type unit struct {
	key       unitKey
	instances []cri.Container
	deleted   bool // the pod is gone: every dead instance may go
}

// planContainers decides, as kubelet's container GC, which dead containers
// and sandboxes go: of each container of a pod that exists, the dead
// instances beyond maxPerPodContainer (the newest instance always stays);
// every dead container of a deleted pod; then, while the node holds more
// than maxContainers dead ones, an equal share per container and then the
// oldest; only containers created at least minAge before now. Sandboxes of
// pods that exist go when they are not ready, hold no container and are
// not the pod's newest. It is pure.
func planContainers(cs []cri.Container, sbs []cri.Sandbox, deleted func(uid string) bool, p containerPolicy, now time.Time) containerPlan {
	units := groupUnits(cs, deleted)
	var plan containerPlan
	for _, u := range units {
		plan.containers = append(plan.containers, u.overLimit(p, now)...)
	}
	plan.containers = append(plan.containers, overNodeLimit(units, plan.containers, p, now)...)
	slices.SortFunc(plan.containers, olderFirst)
	plan.sandboxes = inactiveSandboxes(sbs, cs, plan.containers, deleted)
	return plan
}

// groupUnits groups the pods' containers by pod and name, newest first.
// Containers without a pod's labels are none of the agent's.
func groupUnits(cs []cri.Container, deleted func(uid string) bool) []*unit {
	byKey := map[unitKey]*unit{}
	var out []*unit
	for _, c := range cs {
		k := unitKey{c.Labels[cri.LabelPodUID], c.Labels[cri.LabelContainerName]}
		if k.uid == "" || k.name == "" {
			continue
		}
		u := byKey[k]
		if u == nil {
			u = &unit{key: k, deleted: deleted(k.uid)}
			byKey[k] = u
			out = append(out, u)
		}
		u.instances = append(u.instances, c)
	}
	for _, u := range out {
		slices.SortFunc(u.instances, newerFirst)
	}
	slices.SortFunc(out, func(a, b *unit) int {
		return cmp.Or(cmp.Compare(a.key.uid, b.key.uid), cmp.Compare(a.key.name, b.key.name))
	})
	return out
}

// newerFirst orders instances by attempt, then creation, newest first.
func newerFirst(a, b cri.Container) int {
	return cmp.Or(cmp.Compare(attempt(b), attempt(a)), b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID))
}

// olderFirst orders containers by creation, oldest first.
func olderFirst(a, b cri.Container) int {
	return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
}

func attempt(c cri.Container) int {
	n, _ := strconv.Atoi(c.Labels[cri.LabelAttempt])
	return n
}

// dead lists the unit's instances that do not run, newest first.
func (u *unit) dead() []cri.Container {
	var out []cri.Container
	for _, c := range u.instances {
		if c.State != cri.ContainerRunning {
			out = append(out, c)
		}
	}
	return out
}

// protected reports whether c is the newest instance of a container of a
// pod that exists, which stays whatever its state.
func (u *unit) protected(c cri.Container) bool {
	return !u.deleted && c.ID == u.instances[0].ID
}

// overLimit is what goes of the unit by the per-container limit: all of a
// deleted pod's dead instances, else those beyond the newest
// maxPerPodContainer dead ones.
func (u *unit) overLimit(p containerPolicy, now time.Time) []cri.Container {
	keep := p.maxPerPodContainer
	if u.deleted {
		keep = 0
	}
	return u.beyond(keep, p.minAge, now, nil)
}

// beyond lists the dead instances past the newest keep exited ones that
// are old enough (keep negative: none), skipping those already in gone.
// Instances younger than minAge stay and do not count, as in kubelet; the
// newest instance of a pod that exists stays (and counts if it ran).
// Instances created but never started count for nothing: one is made
// just before it starts, and the exited one before it is what the
// container's last state shows.
func (u *unit) beyond(keep int, minAge time.Duration, now time.Time, gone map[string]bool) []cri.Container {
	if keep < 0 {
		return nil
	}
	var out []cri.Container
	kept := 0
	for _, c := range u.dead() {
		ran := c.State != cri.ContainerCreated
		switch {
		case gone[c.ID] || now.Sub(c.CreatedAt) < minAge:
		case u.protected(c):
			if ran {
				kept++
			}
		case ran && kept < keep:
			kept++
		default:
			out = append(out, c)
		}
	}
	return out
}

// overNodeLimit is what else goes while the node holds more than
// maxContainers dead containers: first each container down to an equal
// share (at least one), then the oldest of what may go.
func overNodeLimit(units []*unit, planned []cri.Container, p containerPolicy, now time.Time) []cri.Container {
	gone := map[string]bool{}
	for _, c := range planned {
		gone[c.ID] = true
	}
	left := deadCount(units, p.minAge, now) - len(gone)
	if p.maxContainers < 0 || left <= p.maxContainers || len(units) == 0 {
		return nil
	}
	share := max(p.maxContainers/len(units), 1)
	var out []cri.Container
	for _, u := range units {
		for _, c := range u.beyond(share, p.minAge, now, gone) {
			out, gone[c.ID] = append(out, c), true
			left--
		}
	}
	var rest []cri.Container
	for _, u := range units {
		rest = append(rest, u.beyond(0, p.minAge, now, gone)...)
	}
	slices.SortFunc(rest, olderFirst)
	for _, c := range rest {
		if left <= p.maxContainers {
			break
		}
		out = append(out, c)
		left--
	}
	return out
}

// deadCount counts the dead containers old enough to be collected.
func deadCount(units []*unit, minAge time.Duration, now time.Time) int {
	n := 0
	for _, u := range units {
		for _, c := range u.dead() {
			if now.Sub(c.CreatedAt) >= minAge {
				n++
			}
		}
	}
	return n
}

// inactiveSandboxes lists the sandboxes of pods that exist which are not
// ready, hold no container once the plan is carried out, and are not
// their pod's newest. A deleted pod's sandboxes are the agent's to tear
// down (its network goes with them).
func inactiveSandboxes(sbs []cri.Sandbox, cs, removed []cri.Container, deleted func(uid string) bool) []string {
	gone := map[string]bool{}
	for _, c := range removed {
		gone[c.ID] = true
	}
	holds := map[string]bool{}
	for _, c := range cs {
		if !gone[c.ID] {
			holds[c.SandboxID] = true
		}
	}
	byPod := map[string][]cri.Sandbox{}
	for _, sb := range sbs {
		if uid := sb.Labels[cri.LabelPodUID]; uid != "" && !deleted(uid) {
			byPod[uid] = append(byPod[uid], sb)
		}
	}
	var out []string
	for _, list := range byPod {
		slices.SortFunc(list, func(a, b cri.Sandbox) int { return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID)) })
		for _, sb := range list[1:] {
			if sb.State != cri.SandboxReady && !holds[sb.ID] {
				out = append(out, sb.ID)
			}
		}
	}
	slices.Sort(out)
	return out
}
