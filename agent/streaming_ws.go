package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	"k8s.io/streaming/pkg/httpstream/wsstream"

	"github.com/nodeagent/nodeagent/cri"
)

// The channels of the v5.channel.k8s.io WebSocket protocol, the one
// kubectl 1.30 and later speak (it adds a CLOSE signal to v4, so that a
// client can end its stdin and still read).
const (
	wsStdin = iota
	wsStdout
	wsStderr
	wsError
	wsResize
	wsChannels
)

// statusWriteDeadline bounds the write of the final status.
const statusWriteDeadline = 10 * time.Second

// wantsV5 reports a WebSocket request that offers v5.channel.k8s.io;
// cri-streaming serves the older WebSocket protocols and SPDY.
func wantsV5(r *http.Request) bool { return wsstream.IsWebSocketRequestWithStreamCloseProtocol(r) }

// serveV5 serves an exec or attach session over v5.channel.k8s.io: the
// streams opts asks for, terminal sizes on the resize channel, and the
// outcome as a Status on the error channel (the exit code as kube words
// it).
func (s *streaming) serveV5(w http.ResponseWriter, r *http.Request, opts *remotecommand.Options,
	run func(context.Context, cri.Streams) (int32, error)) {
	channels := make([]wsstream.ChannelType, wsChannels)
	channels[wsStdin] = channel(opts.Stdin, wsstream.ReadChannel)
	channels[wsStdout] = channel(opts.Stdout, wsstream.WriteChannel)
	channels[wsStderr] = channel(opts.Stderr, wsstream.WriteChannel)
	channels[wsError], channels[wsResize] = wsstream.WriteChannel, wsstream.ReadChannel
	conn := wsstream.NewConn(map[string]wsstream.ChannelProtocolConfig{
		remotecommand.StreamProtocolV5Name: {Binary: true, Channels: channels},
	})
	conn.SetIdleTimeout(streamIdleTimeout)
	_, chans, err := conn.Open(w, r)
	if err != nil {
		s.log.Debug("websocket upgrade failed", "path", r.URL.Path, "err", err)
		return
	}
	defer conn.Close()
	// An empty message on the first channel the client reads says the
	// session is up.
	first := wsError
	if opts.Stdout {
		first = wsStdout
	} else if opts.Stderr {
		first = wsStderr
	}
	chans[first].Write(nil)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	code, err := run(ctx, v5Streams(ctx, opts, chans))
	conn.SetWriteDeadline(statusWriteDeadline)
	if err := json.NewEncoder(chans[wsError]).Encode(sessionStatus(code, err)); err != nil {
		s.log.Debug("could not send the session's status", "path", r.URL.Path, "err", err)
	}
}

func channel(wanted bool, t wsstream.ChannelType) wsstream.ChannelType {
	if wanted {
		return t
	}
	return wsstream.IgnoreChannel
}

// v5Streams are the session's streams on the channels.
func v5Streams(ctx context.Context, opts *remotecommand.Options, chans []io.ReadWriteCloser) cri.Streams {
	st := cri.Streams{TTY: opts.TTY}
	if opts.Stdin {
		st.Stdin = chans[wsStdin]
	}
	if opts.Stdout {
		st.Stdout = chans[wsStdout]
	}
	if opts.Stderr {
		st.Stderr = chans[wsStderr]
	}
	if opts.TTY {
		st.Resize = decodeSizes(ctx, chans[wsResize])
	}
	return st
}

// decodeSizes reads the JSON terminal sizes the client sends.
func decodeSizes(ctx context.Context, r io.Reader) <-chan cri.TermSize {
	out := make(chan cri.TermSize)
	go func() {
		defer close(out)
		dec := json.NewDecoder(r)
		for {
			var sz remotecommand.TerminalSize
			if err := dec.Decode(&sz); err != nil {
				return
			}
			select {
			case out <- cri.TermSize{Width: sz.Width, Height: sz.Height}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// sessionStatus is the Status a session ends with: Success, a non-zero
// exit code as kube's NonZeroExitCode with the code as its ExitCode
// cause, or the error.
func sessionStatus(code int32, err error) *metav1.Status {
	st := &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess}
	switch {
	case err != nil:
		st.Status, st.Reason, st.Code = metav1.StatusFailure, metav1.StatusReasonInternalError, http.StatusInternalServerError
		st.Message = fmt.Sprintf("error executing command in container: %v", err)
	case code != 0:
		st.Status, st.Reason = metav1.StatusFailure, remotecommand.NonZeroExitCodeReason
		st.Message = fmt.Sprintf("command terminated with non-zero exit code: exit code %d", code)
		st.Details = &metav1.StatusDetails{Causes: []metav1.StatusCause{
			{Type: remotecommand.ExitCodeCauseType, Message: strconv.Itoa(int(code))},
		}}
	}
	return st
}
