package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"k8s.io/cri-streaming/pkg/streaming/portforward"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"

	"github.com/nodeagent/nodeagent/cri"
)

// Kubelet's defaults: streamingConnectionIdleTimeout, and how long a client
// has to open the streams it asked for.
const (
	streamIdleTimeout     = 4 * time.Hour
	streamCreationTimeout = remotecommand.DefaultStreamCreationTimeout
)

// streaming serves the agent API's container endpoints as kubelet does:
// /exec, /attach and /portForward over SPDY (v1 to v4.channel.k8s.io,
// portforward.k8s.io) and WebSocket (channel.k8s.io to v5.channel.k8s.io,
// and SPDY tunnelled in WebSocket for port-forward), /run, and
// /containerLogs. It asks only the runtime: the containers of a pod are
// found by their labels.
type streaming struct {
	rt  cri.Runtime
	log *slog.Logger
	now func() time.Time
	// willRestart, if set, reports whether exited container c of pod
	// ns/pod is to be restarted (its pod's restart policy says so).
	willRestart func(ns, pod string, c cri.Container) bool
}

// routes registers the endpoints; the caller's filter authorizes them
// (nodes/proxy, verb create for POST and get for GET, as kubelet maps).
func (s *streaming) routes(mux *http.ServeMux) {
	for _, m := range []string{"GET", "POST"} {
		mux.HandleFunc(m+" /exec/{ns}/{pod}/{container}", s.serveExec)
		mux.HandleFunc(m+" /attach/{ns}/{pod}/{container}", s.serveAttach)
		mux.HandleFunc(m+" /portForward/{ns}/{pod}", s.servePortForward)
	}
	mux.HandleFunc("POST /run/{ns}/{pod}/{container}", s.serveRun)
	mux.HandleFunc("GET /containerLogs/{ns}/{pod}/{container}", s.serveLogs)
}

// errStatus is an error with the HTTP status it is answered with.
type errStatus struct {
	code int
	err  error
}

func (e errStatus) Error() string { return e.err.Error() }
func (e errStatus) Unwrap() error { return e.err }

func httpError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	var es errStatus
	if errors.As(err, &es) {
		code = es.code
	}
	http.Error(w, err.Error(), code)
}

// container is the newest instance of container name in pod ns/pod, or
// the previous one (see previous); running requires it to run.
func (s *streaming) container(ctx context.Context, r *http.Request, previous, running bool) (cri.Container, error) {
	ns, pod, name := r.PathValue("ns"), r.PathValue("pod"), r.PathValue("container")
	cs, err := s.rt.ListContainers(ctx, map[string]string{cri.LabelPodNamespace: ns, cri.LabelPodName: pod, cri.LabelContainerName: name})
	if err != nil {
		return cri.Container{}, err
	}
	slices.SortFunc(cs, func(a, b cri.Container) int {
		if d := attemptOf(b) - attemptOf(a); d != 0 {
			return d
		}
		return b.CreatedAt.Compare(a.CreatedAt)
	})
	if previous {
		return s.previous(cs, ns, pod, name)
	}
	if len(cs) == 0 {
		return cri.Container{}, errStatus{http.StatusNotFound, fmt.Errorf("container %q in pod %s/%s not found", name, ns, pod)}
	}
	c := cs[0]
	if running && c.State != cri.ContainerRunning {
		return cri.Container{}, errStatus{http.StatusBadRequest, fmt.Errorf("container %q in pod %s/%s is not running", name, ns, pod)}
	}
	return c, nil
}

// previous is what kubelet reads for --previous, the container the pod's
// status names as the last termination: the newest instance while it waits
// to be restarted, else the one before the newest.
func (s *streaming) previous(cs []cri.Container, ns, pod, name string) (cri.Container, error) {
	switch {
	case len(cs) > 0 && cs[0].State == cri.ContainerExited && s.willRestart != nil && s.willRestart(ns, pod, cs[0]):
		return cs[0], nil
	case len(cs) > 1:
		return cs[1], nil
	}
	return cri.Container{}, errStatus{http.StatusNotFound,
		fmt.Errorf("previous terminated container %q in pod %s/%s not found", name, ns, pod)}
}

func attemptOf(c cri.Container) int {
	n, _ := strconv.Atoi(c.Labels[cri.LabelAttempt])
	return n
}

// sandbox is the ready sandbox of pod ns/pod.
func (s *streaming) sandbox(ctx context.Context, r *http.Request) (cri.Sandbox, error) {
	ns, pod := r.PathValue("ns"), r.PathValue("pod")
	sbs, err := s.rt.ListPodSandboxes(ctx, map[string]string{cri.LabelPodNamespace: ns, cri.LabelPodName: pod})
	if err != nil {
		return cri.Sandbox{}, err
	}
	for i := len(sbs) - 1; i >= 0; i-- { // newest first
		if sbs[i].State == cri.SandboxReady {
			return sbs[i], nil
		}
	}
	return cri.Sandbox{}, errStatus{http.StatusNotFound, fmt.Errorf("pod %s/%s has no running sandbox on this node", ns, pod)}
}

// serveExec runs the command of the query (command=..., repeated) in a
// running container, with the streams the query asks for (input, output,
// error, tty).
func (s *streaming) serveExec(w http.ResponseWriter, r *http.Request) {
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		httpError(w, errStatus{http.StatusBadRequest, err})
		return
	}
	cmd := r.URL.Query()["command"]
	if len(cmd) == 0 {
		httpError(w, errStatus{http.StatusBadRequest, errors.New("no command given (command=...)")})
		return
	}
	c, err := s.container(r.Context(), r, false, true)
	if err != nil {
		httpError(w, err)
		return
	}
	ex := &executor{rt: s.rt, id: c.ID}
	if wantsV5(r) {
		s.serveV5(w, r, opts, func(ctx context.Context, st cri.Streams) (int32, error) { return s.rt.Exec(ctx, c.ID, cmd, st) })
		return
	}
	remotecommand.ServeExec(w, r, ex, r.PathValue("pod"), "", c.Name, cmd, opts, streamIdleTimeout, streamCreationTimeout,
		remotecommand.SupportedStreamingProtocols)
}

// serveAttach attaches the query's streams to a running container.
func (s *streaming) serveAttach(w http.ResponseWriter, r *http.Request) {
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		httpError(w, errStatus{http.StatusBadRequest, err})
		return
	}
	c, err := s.container(r.Context(), r, false, true)
	if err != nil {
		httpError(w, err)
		return
	}
	ex := &executor{rt: s.rt, id: c.ID}
	if wantsV5(r) {
		s.serveV5(w, r, opts, func(ctx context.Context, st cri.Streams) (int32, error) { return 0, s.rt.Attach(ctx, c.ID, st) })
		return
	}
	remotecommand.ServeAttach(w, r, ex, r.PathValue("pod"), "", c.Name, opts, streamIdleTimeout, streamCreationTimeout,
		remotecommand.SupportedStreamingProtocols)
}

// servePortForward forwards the ports the client asks for to the pod's
// loopback.
func (s *streaming) servePortForward(w http.ResponseWriter, r *http.Request) {
	sb, err := s.sandbox(r.Context(), r)
	if err != nil {
		httpError(w, err)
		return
	}
	fwd := forwarder{rt: s.rt, sandboxID: sb.ID}
	if wantsTunnel(r) {
		s.serveTunnel(w, r, fwd)
		return
	}
	// The ports are in the query for WebSocket (v4.channel.k8s.io), in
	// each stream's headers for SPDY.
	opts, err := portforward.NewV4Options(r)
	if err != nil {
		httpError(w, errStatus{http.StatusBadRequest, err})
		return
	}
	portforward.ServePortForward(w, r, fwd, r.PathValue("pod"), "", opts, streamIdleTimeout, streamCreationTimeout,
		portforward.SupportedProtocols)
}

// serveRun runs the command of the query in a running container and
// answers with its output, stdout then stderr, as kubelet's /run does; a
// command that fails is a 500 with its output.
func (s *streaming) serveRun(w http.ResponseWriter, r *http.Request) {
	cmd := r.URL.Query()["command"]
	if len(cmd) == 0 {
		httpError(w, errStatus{http.StatusBadRequest, errors.New("no command given (command=...)")})
		return
	}
	c, err := s.container(r.Context(), r, false, true)
	if err != nil {
		httpError(w, err)
		return
	}
	res, err := s.rt.ExecSync(r.Context(), c.ID, cmd, 0)
	out := append(res.Stdout, res.Stderr...)
	if err == nil && res.ExitCode != 0 {
		err = fmt.Errorf("command %q exited with %d: %s", cmd, res.ExitCode, out)
	}
	if err != nil {
		httpError(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Write(out)
}

// executor runs exec and attach sessions of cri-streaming's servers in the
// runtime.
type executor struct {
	rt cri.Runtime
	id string
}

// ExecInContainer implements remotecommand.Executor; a non-zero exit code
// is an ExitError, which the server sends as the status.
func (e *executor) ExecInContainer(ctx context.Context, _, _, _ string, cmd []string, in io.Reader, out, errOut io.WriteCloser,
	tty bool, resize <-chan remotecommand.TerminalSize, _ time.Duration) error {
	code, err := e.rt.Exec(ctx, e.id, cmd, streams(ctx, in, out, errOut, tty, resize))
	if err != nil {
		return err
	}
	return exitError(cmd, code)
}

// AttachContainer implements remotecommand.Attacher.
func (e *executor) AttachContainer(ctx context.Context, _, _, _ string, in io.Reader, out, errOut io.WriteCloser,
	tty bool, resize <-chan remotecommand.TerminalSize) error {
	return e.rt.Attach(ctx, e.id, streams(ctx, in, out, errOut, tty, resize))
}

// exitError is the error of a non-zero exit code (nil for 0).
func exitError(cmd []string, code int32) error {
	if code == 0 {
		return nil
	}
	return utilexec.CodeExitError{Err: fmt.Errorf("command %q exited with %d", cmd, code), Code: int(code)}
}

// streams converts cri-streaming's streams (nil ones are not connected).
func streams(ctx context.Context, in io.Reader, out, errOut io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) cri.Streams {
	st := cri.Streams{TTY: tty}
	if in != nil {
		st.Stdin = in
	}
	if out != nil {
		st.Stdout = out
	}
	if errOut != nil {
		st.Stderr = errOut
	}
	if resize != nil {
		st.Resize = termSizes(ctx, resize)
	}
	return st
}

// termSizes relays terminal sizes until in closes or ctx ends.
func termSizes(ctx context.Context, in <-chan remotecommand.TerminalSize) <-chan cri.TermSize {
	out := make(chan cri.TermSize)
	go func() {
		defer close(out)
		for {
			select {
			case sz, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- cri.TermSize{Width: sz.Width, Height: sz.Height}:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// forwarder forwards cri-streaming's port-forward streams into a sandbox.
type forwarder struct {
	rt        cri.Runtime
	sandboxID string
}

// PortForward implements portforward.PortForwarder.
func (f forwarder) PortForward(ctx context.Context, _, _ string, port int32, stream io.ReadWriteCloser) error {
	return f.rt.PortForward(ctx, f.sandboxID, port, stream)
}
