package agent

import (
	"fmt"
	"time"
)

// Failed image pulls back off per image, as kubelet's do: the first
// failure waits pullBackoffInitial, each next one twice as long, at most
// pullBackoffMax; an image that has not failed for twice the maximum
// starts over. Meanwhile a container waits with reason ImagePullBackOff.
const (
	pullBackoffInitial = 10 * time.Second
	pullBackoffMax     = 5 * time.Minute
)

// pullBackoff holds the back-off of each image whose pull failed. It is not
// safe for concurrent use: the agent guards it with its mutex.
type pullBackoff struct {
	initial, max time.Duration
	images       map[string]pullFailure
}

type pullFailure struct {
	at    time.Time     // the latest failure
	delay time.Duration // how long after it no pull is tried
}

func newPullBackoff(initial, max time.Duration) *pullBackoff {
	return &pullBackoff{initial: initial, max: max, images: map[string]pullFailure{}}
}

// failed records a failed pull of image at now and returns its back-off.
func (b *pullBackoff) failed(image string, now time.Time) time.Duration {
	d := b.initial
	if f, ok := b.images[image]; ok && now.Sub(f.at) <= 2*b.max {
		d = min(f.delay*2, b.max)
	}
	b.images[image] = pullFailure{at: now, delay: d}
	return d
}

// remaining is how long image's back-off still lasts at now (0: none).
func (b *pullBackoff) remaining(image string, now time.Time) time.Duration {
	f, ok := b.images[image]
	if !ok {
		return 0
	}
	return max(f.at.Add(f.delay).Sub(now), 0)
}

// succeeded forgets image's failures.
func (b *pullBackoff) succeeded(image string) { delete(b.images, image) }

// pullBackoffError says a pull waits for its back-off: the pod is synced
// again when it ends, without counting as a failure.
type pullBackoffError struct {
	image string
	left  time.Duration
}

func (e *pullBackoffError) Error() string {
	return fmt.Sprintf("back-off pulling image %q: %s left", e.image, e.left)
}
