package containerd

import (
	"context"
	"fmt"

	apievents "github.com/containerd/containerd/api/events"
	"github.com/containerd/containerd/v2/core/events"
	"github.com/containerd/typeurl/v2"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/internal/podlabels"
)

// eventTopics are the containerd topics Events translates.
var eventTopics = []string{"/tasks/start", "/tasks/exit", "/tasks/oom", "/containers/create", "/containers/delete"}

// eventBuffer is how many translated events may wait for the reader.
const eventBuffer = 256

// podRef is what events need to know about a containerd container.
type podRef struct{ kind, uid string }

// Events implements cri.Runtime: containerd's events for this namespace,
// with pod UIDs from container labels. The channel closes when ctx ends or
// the subscription breaks; the caller then relists and subscribes again.
func (r *Runtime) Events(ctx context.Context) (<-chan cri.Event, error) {
	ctx = r.ns(ctx)
	if err := r.primePodRefs(ctx); err != nil {
		return nil, err
	}
	filters := make([]string, len(eventTopics))
	for i, topic := range eventTopics {
		filters[i] = fmt.Sprintf("namespace==%q,topic==%q", r.cfg.Namespace, topic)
	}
	ctx, cancel := context.WithCancel(ctx)
	envelopes, errs := r.client.Subscribe(ctx, filters...)
	out := make(chan cri.Event, eventBuffer)
	go func() {
		defer close(out)
		defer cancel()
		r.forward(ctx, envelopes, errs, out)
	}()
	return out, nil
}

// forward translates envelopes onto out until ctx ends or the stream breaks.
func (r *Runtime) forward(ctx context.Context, envelopes <-chan *events.Envelope, errs <-chan error, out chan<- cri.Event) {
	for {
		select {
		case env, ok := <-envelopes:
			if !ok {
				return
			}
			ev, ok := r.translate(ctx, env)
			if !ok {
				continue
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		case err := <-errs:
			if err != nil && ctx.Err() == nil {
				r.log.Warn("containerd event stream broke", "err", err)
			}
			return
		case <-ctx.Done():
			return
		}
	}
}

// primePodRefs rebuilds the pod UID cache from what exists now, so that
// the delete event of a container made before this subscription names its
// pod.
func (r *Runtime) primePodRefs(ctx context.Context) error {
	recs, err := r.client.ContainerService().List(ctx)
	if err != nil {
		return fmt.Errorf("subscribe to events: list containers: %w", err)
	}
	refs := make(map[string]podRef, len(recs))
	for _, rec := range recs {
		refs[rec.ID] = podRef{kind: rec.Labels[cri.LabelKind], uid: rec.Labels[cri.LabelPodUID]}
	}
	r.mu.Lock()
	r.podRefs = refs
	r.mu.Unlock()
	return nil
}

// translate maps an envelope to an event; false for what is not reported
// (exec processes, sandbox events other than exit, unknown containers).
func (r *Runtime) translate(ctx context.Context, env *events.Envelope) (cri.Event, bool) {
	v, err := typeurl.UnmarshalAny(env.Event)
	if err != nil {
		r.log.Warn("undecodable containerd event", "topic", env.Topic, "err", err)
		return cri.Event{}, false
	}
	ev := cri.Event{Time: env.Timestamp}
	var sandboxType cri.EventType // the type when it is a sandbox's event
	switch e := v.(type) {
	case *apievents.TaskStart:
		ev.Type, ev.ContainerID = cri.EventContainerStarted, e.ContainerID
	case *apievents.TaskExit:
		if e.ID != e.ContainerID {
			return cri.Event{}, false
		}
		ev.Type, ev.ContainerID, ev.Time = cri.EventContainerExited, e.ContainerID, e.ExitedAt.AsTime()
		sandboxType = cri.EventSandboxExited
	case *apievents.TaskOOM:
		ev.Type, ev.ContainerID = cri.EventContainerOOM, e.ContainerID
	case *apievents.ContainerCreate:
		ev.Type, ev.ContainerID = cri.EventContainerCreated, e.ID
	case *apievents.ContainerDelete:
		ev.Type, ev.ContainerID = cri.EventContainerDeleted, e.ID
	default:
		return cri.Event{}, false
	}
	ref := r.podRefOf(ctx, ev.ContainerID, ev.Type == cri.EventContainerDeleted)
	ev.PodUID = ref.uid
	switch ref.kind {
	case podlabels.KindContainer:
		if ev.Type == cri.EventContainerOOM {
			r.markOOM(ctx, ev.ContainerID)
		}
		return ev, true
	case podlabels.KindSandbox:
		ev.Type = sandboxType
		return ev, sandboxType != ""
	}
	return cri.Event{}, false
}

// podRefOf returns what is known of container id, from the cache or
// containerd; with drop, the cache forgets it.
func (r *Runtime) podRefOf(ctx context.Context, id string, drop bool) podRef {
	r.mu.Lock()
	ref, ok := r.podRefs[id]
	if drop {
		delete(r.podRefs, id)
	}
	r.mu.Unlock()
	if ok || drop {
		return ref
	}
	rec, err := r.client.ContainerService().Get(ctx, id)
	if err != nil {
		return podRef{}
	}
	r.remember(id, rec.Labels)
	return podRef{kind: rec.Labels[cri.LabelKind], uid: rec.Labels[cri.LabelPodUID]}
}

// markOOM records on the container that the kernel killed it for memory,
// so that its exit reason is OOMKilled.
func (r *Runtime) markOOM(ctx context.Context, id string) {
	c, err := r.client.LoadContainer(ctx, id)
	if err == nil {
		_, err = c.SetLabels(ctx, map[string]string{labelOOMKilled: "true"})
	}
	if err != nil {
		r.log.Warn("cannot record an OOM kill", "container", id, "err", err)
	}
}
