package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/agent/prober"
)

// maxBody is how much of a hook's HTTP response is read (and dropped).
const maxBody = 10 << 10

// Hooks runs containers' postStart and preStop handlers as kubelet does.
type Hooks struct {
	cfg    Config
	client *http.Client
}

// New returns Hooks.
func New(cfg Config) (*Hooks, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Hooks{cfg: cfg, client: prober.NewHTTPClient(cfg.Dial)}, nil
}

// Container names the container a hook runs for.
type Container struct {
	Pod   *corev1.Pod
	Spec  *corev1.Container
	ID    string // the runtime's container id
	PodIP string // the pod's first IP; "" when it has none yet
}

// run runs one handler. The message, on failure, is kubelet's: for the
// container's status, never for events (it may hold the hook's output).
func (h *Hooks) run(ctx context.Context, c Container, hd *corev1.LifecycleHandler) (string, error) {
	switch {
	case hd.Exec != nil:
		out, err := h.runExec(ctx, c, hd.Exec.Command)
		if err != nil {
			return fmt.Sprintf("Exec lifecycle hook (%v) for Container %q in Pod %q failed - error: %v, message: %q",
				hd.Exec.Command, c.Spec.Name, podName(c.Pod), err, out), err
		}
	case hd.HTTPGet != nil:
		if err := h.runHTTP(ctx, c, hd.HTTPGet); err != nil {
			return fmt.Sprintf("HTTP lifecycle hook (%s) for Container %q in Pod %q failed - error: %v",
				hd.HTTPGet.Path, c.Spec.Name, podName(c.Pod), err), err
		}
	case hd.Sleep != nil:
		if err := h.runSleep(ctx, hd.Sleep.Seconds); err != nil {
			return fmt.Sprintf("Sleep lifecycle hook (%d) for Container %q in Pod %q failed - error: %v",
				hd.Sleep.Seconds, c.Spec.Name, podName(c.Pod), err), err
		}
	default:
		err := errors.New("invalid handler: it has no action")
		return "Cannot run handler: " + err.Error(), err
	}
	return "", nil
}

// runExec runs the command in the container with no timeout of its own
// (ctx bounds it) and returns its output; a non-zero exit is an error.
func (h *Hooks) runExec(ctx context.Context, c Container, cmd []string) (string, error) {
	res, err := h.cfg.Exec.ExecSync(ctx, c.ID, cmd, 0)
	out := string(append(res.Stdout, res.Stderr...))
	if err != nil {
		return out, err
	}
	if res.ExitCode != 0 {
		return out, fmt.Errorf("command '%s' exited with %d: %s", strings.Join(cmd, " "), res.ExitCode, res.Stderr)
	}
	return out, nil
}

// runHTTP sends the GET; any response is success, whatever its status
// (kubelet checks none). An https hook answered in plain HTTP is retried
// over http, without the Authorization header, and an event says so.
func (h *Hooks) runHTTP(ctx context.Context, c Container, a *corev1.HTTPGetAction) error {
	if a.Host == "" && c.PodIP == "" {
		return errors.New("failed to find networking container: the pod has no IP")
	}
	req, err := prober.HTTPGetRequest(a, c.Spec, c.PodIP, "kube-lifecycle/"+h.cfg.Version)
	if err != nil {
		return err
	}
	err = h.get(req.WithContext(ctx))
	if !plainHTTPAnswer(err) {
		return err
	}
	retry := req.Clone(ctx)
	retry.URL.Scheme = "http"
	retry.Header.Del("Authorization")
	if h.get(retry) != nil {
		return err
	}
	h.event(c.Pod, corev1.EventTypeWarning, "LifecycleHTTPFallback",
		"request to HTTPS lifecycle hook %s got HTTP response, retry with HTTP succeeded", req.URL.Host)
	return nil
}

func (h *Hooks) get(req *http.Request) error {
	res, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxBody))
	return nil
}

// plainHTTPAnswer says whether an https request met a plain HTTP server.
func plainHTTPAnswer(err error) bool {
	var ue *url.Error
	return errors.As(err, &ue) && strings.Contains(ue.Err.Error(), "server gave HTTP response to HTTPS client")
}

// runSleep waits the hook's seconds on the clock, or until ctx ends (the
// grace period ran out).
func (h *Hooks) runSleep(ctx context.Context, seconds int64) error {
	select {
	case <-h.cfg.Clock.After(time.Duration(seconds) * time.Second):
		return nil
	case <-ctx.Done():
		return errors.New("container terminated before sleep hook finished")
	}
}

// event records an event on obj: the pod, or a container's reference.
func (h *Hooks) event(obj runtime.Object, typ, reason, format string, args ...any) {
	if h.cfg.Recorder != nil {
		h.cfg.Recorder.Eventf(obj, typ, reason, format, args...)
	}
}

// podName is kubelet's format.Pod: name_namespace(uid).
func podName(pod *corev1.Pod) string {
	return fmt.Sprintf("%s_%s(%s)", pod.Name, pod.Namespace, pod.UID)
}
