package prober

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
)

// DefaultVersion is the Kubernetes version probes claim by default
// (User-Agent kube-probe/1.37), the one the agent reports as its own.
const DefaultVersion = "1.37"

// StatusProvider gives workers the pod's latest status as the agent
// computed it: the containers' ids and states, the pod's IP. false while
// the agent has none for the pod.
type StatusProvider interface {
	GetPodStatus(uid types.UID) (corev1.PodStatus, bool)
}

// StatusFunc is a function as a StatusProvider (one bound late, say).
type StatusFunc func(uid types.UID) (corev1.PodStatus, bool)

// GetPodStatus implements StatusProvider.
func (f StatusFunc) GetPodStatus(uid types.UID) (corev1.PodStatus, bool) { return f(uid) }

// Recorder records events: record.EventRecorder's one method the prober
// and the hooks use. Their events are about a container: obj is a
// *corev1.ObjectReference to the pod with the container's field path
// (ContainerRef), or the pod itself.
type Recorder interface {
	Eventf(obj runtime.Object, eventtype, reason, messageFmt string, args ...any)
}

// Config configures a Manager; the zero value of each optional field means
// its default.
type Config struct {
	// Exec runs exec probes: the container runtime. Required.
	Exec Execer
	// Status tells workers what runs. Required.
	Status StatusProvider
	// Dial connects to pods for tcpSocket, httpGet and grpc probes; nil:
	// NodeDialer, from the agent's own network namespace.
	Dial DialFunc
	// Recorder records kubelet's probe events (Unhealthy, ProbeWarning);
	// nil: none.
	Recorder Recorder
	// Clock drives initial delays and periods; nil: the real clock.
	Clock clock.WithTicker
	// Log receives debug lines on failed probes; nil: discarded.
	Log *slog.Logger
	// Metrics counts the probes that ran; nil: none.
	Metrics Metrics
	// Version is the Kubernetes version in the probes' User-Agent,
	// kube-probe/<Version>; "": DefaultVersion.
	Version string
	// UpdateBuffer is how many result changes wait for the agent to read
	// them before workers block; 0: 20.
	UpdateBuffer int
	// Jitter returns a number in [0, 1): a worker made within one period of
	// the manager's start first waits that fraction of its period, so that
	// a restarted agent does not probe every container at once; nil:
	// math/rand/v2.
	Jitter func() float64
}

func (c Config) withDefaults() Config {
	if c.Dial == nil {
		c.Dial = NodeDialer()
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Metrics == nil {
		c.Metrics = noMetrics{}
	}
	if c.Version == "" {
		c.Version = DefaultVersion
	}
	if c.UpdateBuffer == 0 {
		c.UpdateBuffer = 20
	}
	if c.Jitter == nil {
		c.Jitter = rand.Float64
	}
	return c
}

// Validate reports a configuration the manager cannot run with.
func (c Config) Validate() error {
	var errs []error
	if c.Exec == nil {
		errs = append(errs, errors.New("prober: Exec (the container runtime) is required"))
	}
	if c.Status == nil {
		errs = append(errs, errors.New("prober: Status (the pods' statuses) is required"))
	}
	if c.UpdateBuffer < 0 {
		errs = append(errs, fmt.Errorf("prober: UpdateBuffer %d is negative", c.UpdateBuffer))
	}
	return errors.Join(errs...)
}

func (c Config) userAgent(purpose string) string {
	return "kube-" + purpose + "/" + c.Version
}
