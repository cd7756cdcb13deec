package images

import "time"

// Kubelet's image pull back-off.
const (
	backoffInitial = 10 * time.Second
	backoffMax     = 5 * time.Minute
)

// backoff holds the back-off of each image whose pull failed. It is not
// safe for concurrent use: the Puller guards it.
type backoff struct {
	initial, max time.Duration
	images       map[string]failure
}

type failure struct {
	at    time.Time     // the latest failure
	delay time.Duration // how long after it no pull is tried
}

func newBackoff(initial, max time.Duration) *backoff {
	return &backoff{initial: initial, max: max, images: map[string]failure{}}
}

// failed records a failed pull of image at now and returns its back-off.
func (b *backoff) failed(image string, now time.Time) time.Duration {
	d := b.initial
	if f, ok := b.images[image]; ok && now.Sub(f.at) <= 2*b.max {
		d = min(f.delay*2, b.max)
	}
	b.images[image] = failure{at: now, delay: d}
	return d
}

// remaining is how long image's back-off still lasts at now (0: none).
func (b *backoff) remaining(image string, now time.Time) time.Duration {
	f, ok := b.images[image]
	if !ok {
		return 0
	}
	return max(f.at.Add(f.delay).Sub(now), 0)
}

// succeeded forgets image's failures.
func (b *backoff) succeeded(image string) { delete(b.images, image) }

// gc forgets the failures that no longer hold anything back: an image
// that failed once and was never asked for again must not stay forever.
func (b *backoff) gc(now time.Time) {
	for image, f := range b.images {
		if now.Sub(f.at) > 2*b.max {
			delete(b.images, image)
		}
	}
}
