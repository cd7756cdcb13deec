package conformance

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/internal/syncbuf"
)

// contains is a condition for eventually: out has want.
func contains(out *syncbuf.Buffer, want string) func() error {
	return func() error {
		if got := out.String(); !strings.Contains(got, want) {
			return fmt.Errorf("no %q in %q", want, got)
		}
		return nil
	}
}

// session is a client attached or exec'ed in the background: what it
// types goes to stdin, what comes back is out.
type session struct {
	stdin *io.PipeWriter
	out   *syncbuf.Buffer
	done  chan error
}

// start runs call (Attach or Exec) with a piped stdin; sizes, if not nil,
// carries terminal sizes.
func (s *suite) startSession(tty bool, sizes chan cri.TermSize, call func(cri.Streams) error) *session {
	inR, inW := io.Pipe()
	ss := &session{stdin: inW, out: &syncbuf.Buffer{}, done: make(chan error, 1)}
	streams := cri.Streams{Stdin: inR, Stdout: ss.out, TTY: tty}
	if !tty {
		streams.Stderr = ss.out
	}
	if sizes != nil {
		streams.Resize = sizes
	}
	go func() { ss.done <- call(streams) }()
	s.t.Cleanup(func() { inW.Close() })
	return ss
}

// typeLine writes line and a newline to the session's stdin, without
// blocking the case if nobody reads.
func (ss *session) typeLine(line string) {
	go ss.stdin.Write([]byte(line + "\n"))
}

// wait waits for the session's call to return and gives its error.
func (s *suite) wait(ss *session, what string) error {
	s.t.Helper()
	select {
	case err := <-ss.done:
		return err
	case <-time.After(s.env.Timeout):
		s.t.Fatalf("%s did not return within %v; output %q", what, s.env.Timeout, ss.out.String())
		return nil
	}
}

// logHas waits until the log at path has a full stdout record of each line.
func (s *suite) logHas(path string, lines ...string) {
	s.t.Helper()
	s.eventually("log lines "+strings.Join(lines, ", "), func() error {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, l := range lines {
			if !strings.Contains(string(data), " stdout F "+l+"\n") && !strings.Contains(string(data), " stdout F "+l+"\r\n") {
				return fmt.Errorf("no record of %q in %q", l, data)
			}
		}
		return nil
	})
}

// halfConn is one end of an in-memory connection whose Close closes only
// its sending side, as an httpstream stream's does.
type halfConn struct {
	r *io.PipeReader
	w *io.PipeWriter
}

func (c halfConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c halfConn) Write(p []byte) (int, error) { return c.w.Write(p) }
func (c halfConn) Close() error                { return c.w.Close() }

// streamPair is a forwarded connection's two ends: the runtime's and the
// client's.
func streamPair() (halfConn, halfConn) {
	ar, bw := io.Pipe()
	br, aw := io.Pipe()
	return halfConn{r: ar, w: aw}, halfConn{r: br, w: bw}
}
