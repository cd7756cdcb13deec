package images

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/cri"
)

// Service is the image half of cri.Runtime.
type Service interface {
	// PullImage pulls ref (with credentials when auth is not nil).
	PullImage(ctx context.Context, ref string, auth *cri.AuthConfig) (string, error)
	// ImageStatus returns the image, or an error wrapping cri.ErrNotFound.
	ImageStatus(ctx context.Context, ref string) (cri.Image, error)
}

var _ Service = cri.Runtime(nil)

// Recorder records events on the pod (client-go's record.EventRecorder
// has this method).
type Recorder interface {
	Eventf(object runtime.Object, eventtype, reason, messageFmt string, args ...any)
}

// Waiting reasons of a container whose image is not there, as kubelet's.
const (
	ReasonErrImagePull      = "ErrImagePull"
	ReasonImagePullBackOff  = "ImagePullBackOff"
	ReasonErrImageNeverPull = "ErrImageNeverPull"
)

// Error says why a container's image is not there. Reason is the
// container's waiting reason and Message its message; RetryAfter, for
// ImagePullBackOff, is the time left before the next pull is tried.
type Error struct {
	Reason, Message string
	RetryAfter      time.Duration
	Err             error // the runtime's error, for ErrImagePull
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Err }

// Puller pulls images for containers. Its methods may be called
// concurrently, by every pod worker.
type Puller struct {
	svc     Service
	secrets SecretGetter
	events  Recorder
	clock   clock.PassiveClock

	mu      sync.Mutex
	backoff *backoff
}

// New returns a Puller; secrets may be nil (no pull secrets are read),
// events may be nil (none recorded).
func New(svc Service, secrets SecretGetter, events Recorder, clk clock.PassiveClock) *Puller {
	return &Puller{svc: svc, secrets: secrets, events: events, clock: clk, backoff: newBackoff(backoffInitial, backoffMax)}
}

// EnsureImage makes sure the image of the pod's container spec is
// present, pulling it as its imagePullPolicy says, and returns the
// reference to create the container from. What the user must fix comes
// back as an *Error.
func (p *Puller) EnsureImage(ctx context.Context, pod *corev1.Pod, spec corev1.Container) (string, error) {
	ref := spec.Image
	_, err := p.svc.ImageStatus(ctx, ref)
	present := err == nil
	if err != nil && !errors.Is(err, cri.ErrNotFound) {
		return "", fmt.Errorf("image status of %q: %w", ref, err)
	}
	switch {
	case spec.ImagePullPolicy == corev1.PullNever && !present:
		msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", ref)
		p.event(pod, corev1.EventTypeWarning, ReasonErrImageNeverPull, "%s", msg)
		return "", &Error{Reason: ReasonErrImageNeverPull, Message: msg}
	case present && spec.ImagePullPolicy != corev1.PullAlways:
		return ref, nil
	}
	return ref, p.pull(ctx, pod, ref)
}

// pull pulls ref unless its back-off holds it back.
func (p *Puller) pull(ctx context.Context, pod *corev1.Pod, ref string) error {
	if left := p.remaining(ref); left > 0 {
		msg := fmt.Sprintf("Back-off pulling image %q", ref)
		p.event(pod, corev1.EventTypeNormal, "BackOff", "%s", msg)
		return &Error{Reason: ReasonImagePullBackOff, Message: msg, RetryAfter: left}
	}
	p.event(pod, corev1.EventTypeNormal, "Pulling", "Pulling image %q", ref)
	start := p.clock.Now()
	_, err := p.svc.PullImage(ctx, ref, credentials(ctx, p.secrets, pod, ref))
	p.record(ref, err)
	if err != nil {
		p.event(pod, corev1.EventTypeWarning, "Failed", "Failed to pull image %q: %v", ref, err)
		return &Error{Reason: ReasonErrImagePull, Message: err.Error(), Err: err}
	}
	p.event(pod, corev1.EventTypeNormal, "Pulled", "Successfully pulled image %q in %s", ref, p.clock.Since(start).Round(time.Millisecond))
	return nil
}

func (p *Puller) remaining(ref string) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.backoff.remaining(ref, p.clock.Now())
}

// record notes a pull's outcome in the back-off.
func (p *Puller) record(ref string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	p.backoff.gc(now)
	if err != nil {
		p.backoff.failed(ref, now)
		return
	}
	p.backoff.succeeded(ref)
}

func (p *Puller) event(pod *corev1.Pod, typ, reason, format string, args ...any) {
	if p.events != nil {
		p.events.Eventf(pod, typ, reason, format, args...)
	}
}
