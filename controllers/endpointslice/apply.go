package endpointslice

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// apply writes creates first, then updates, then deletes, so that no
// endpoint is missing in between; it notes every write in the tracker.
func (c *Controller) apply(ctx context.Context, key string, a Actions) error {
	if a.Empty() {
		return nil
	}
	var errs []error
	for _, s := range a.Create {
		created, err := c.client.DiscoveryV1().EndpointSlices(s.Namespace).Create(ctx, s, metav1.CreateOptions{})
		if err != nil {
			errs = append(errs, fmt.Errorf("create slice for %s: %w", key, err))
			continue
		}
		c.written.wrote(key, created.Name, created.ResourceVersion)
	}
	for _, s := range a.Update {
		updated, err := c.client.DiscoveryV1().EndpointSlices(s.Namespace).Update(ctx, s, metav1.UpdateOptions{})
		if err != nil {
			errs = append(errs, fmt.Errorf("update slice %s/%s: %w", s.Namespace, s.Name, err))
			continue
		}
		c.written.wrote(key, updated.Name, updated.ResourceVersion)
	}
	for _, s := range a.Delete {
		err := c.client.DiscoveryV1().EndpointSlices(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete slice %s/%s: %w", s.Namespace, s.Name, err))
			continue
		}
		c.written.wrote(key, s.Name, deleted)
	}
	c.log.Debug("slices synced", "service", key, "created", len(a.Create), "updated", len(a.Update), "deleted", len(a.Delete))
	return errors.Join(errs...)
}

func metav1ListOptions(sel labels.Selector) metav1.ListOptions {
	return metav1.ListOptions{LabelSelector: sel.String()}
}

// deleted marks a slice this controller deleted.
const deleted = "-"

// tracker remembers, per service, the slices this controller wrote and
// the resourceVersion each write returned, until the cache shows them.
type tracker struct {
	mu      sync.Mutex
	now     func() time.Time
	written map[string]map[string]write // service key -> slice name -> write
}

type write struct {
	rv string // or deleted
	at time.Time
}

// trackerMemory is how long a write waits for the cache before it is
// forgotten (someone else may have changed the slice meanwhile).
const trackerMemory = 30 * time.Second

func newTracker(now func() time.Time) *tracker {
	return &tracker{now: now, written: map[string]map[string]write{}}
}

func (t *tracker) wrote(key, name, rv string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.written[key] == nil {
		t.written[key] = map[string]write{}
	}
	t.written[key][name] = write{rv: rv, at: t.now()}
}

// caughtUp reports whether cached reflects every write noted for key, and
// forgets the writes it reflects.
func (t *tracker) caughtUp(key string, cached []*discoveryv1.EndpointSlice) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	byName := map[string]*discoveryv1.EndpointSlice{}
	for _, s := range cached {
		byName[s.Name] = s
	}
	for name, w := range t.written[key] {
		if seen(byName[name], w.rv) || t.now().Sub(w.at) > trackerMemory {
			delete(t.written[key], name)
		}
	}
	if len(t.written[key]) == 0 {
		delete(t.written, key)
		return true
	}
	return false
}

// seen: the cache has the write (a deleted slice is gone; a written one
// is there at that resourceVersion or later).
func seen(s *discoveryv1.EndpointSlice, rv string) bool {
	if rv == deleted {
		return s == nil
	}
	if s == nil {
		return false
	}
	want, err1 := strconv.ParseInt(rv, 10, 64)
	have, err2 := strconv.ParseInt(s.ResourceVersion, 10, 64)
	return err1 != nil || (err2 == nil && have >= want)
}
