package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/internal/syncbuf"
)

// testExecStreams: a client's stdin reaches the process (and its end is
// the process's EOF), stdout and stderr come back apart, the exit code is
// the process's; without stdin the process reads nothing; an exec in a
// container that does not run fails with ErrNotRunning.
func testExecStreams(s *suite) {
	s.pull()
	p := s.sandbox(nil)
	id := s.run(p, "app", Behaviour{Kind: Pause})
	s.waitState(id, cri.ContainerRunning)
	var out, errOut syncbuf.Buffer
	code, err := s.rt.Exec(s.ctx, id, []string{"sh", "-c", "cat; echo done >&2; exit 3"},
		cri.Streams{Stdin: strings.NewReader("in\n"), Stdout: &out, Stderr: &errOut})
	if err != nil || code != 3 || out.String() != "in\n" || errOut.String() != "done\n" {
		s.t.Errorf("Exec(cat; echo done >&2; exit 3) = %d, %v; stdout %q, stderr %q; want 3, \"in\\n\", \"done\\n\"",
			code, err, out.String(), errOut.String())
	}
	var none syncbuf.Buffer
	code, err = s.rt.Exec(s.ctx, id, []string{"sh", "-c", "cat; echo none"}, cri.Streams{Stdout: &none})
	if err != nil || code != 0 || none.String() != "none\n" {
		s.t.Errorf("Exec without stdin = %d, %v, %q; want 0, \"none\\n\"", code, err, none.String())
	}
	stopped := s.run(p, "stopped", Behaviour{Kind: Exit, Code: 0})
	s.waitState(stopped, cri.ContainerExited)
	if _, err := s.rt.Exec(s.ctx, stopped, []string{"true"}, cri.Streams{}); !errors.Is(err, cri.ErrNotRunning) {
		s.t.Errorf("Exec in an exited container: %v, want ErrNotRunning", err)
	}
	if _, err := s.rt.Exec(s.ctx, "no-such-container", []string{"true"}, cri.Streams{}); !errors.Is(err, cri.ErrNotFound) {
		s.t.Errorf("Exec in a container that does not exist: %v, want ErrNotFound", err)
	}
}

// testExecTTY: with a TTY the process has a terminal, which takes the
// client's size.
func testExecTTY(s *suite) {
	s.pull()
	p := s.sandbox(nil)
	id := s.run(p, "app", Behaviour{Kind: Pause})
	s.waitState(id, cri.ContainerRunning)
	sizes := make(chan cri.TermSize, 1)
	sizes <- cri.TermSize{Width: 100, Height: 40}
	var code int32
	ss := s.startSession(true, sizes, func(st cri.Streams) error {
		var err error
		code, err = s.rt.Exec(s.ctx, id, []string{"sh", "-c", "tty; while read x; do stty size; done"}, st)
		return err
	})
	s.eventually("the terminal's size", func() error {
		ss.typeLine("x")
		return contains(ss.out, "40 100")()
	})
	ss.stdin.Close()
	if err := s.wait(ss, "Exec"); err != nil {
		s.t.Fatalf("Exec with a TTY: %v (exit code %d)", err, code)
	}
	if !strings.Contains(ss.out.String(), "/dev/pts/") {
		s.t.Errorf("tty printed %q, want a /dev/pts/ terminal", ss.out.String())
	}
}

// testAttachStdinOnce: a client attached to a container created with
// StdinOnce writes its stdin, whose end closes the container's; the client
// sees the output until the container exits; the output is in the log.
func testAttachStdinOnce(s *suite) {
	s.pull()
	p := s.sandbox(nil)
	logPath := filepath.Join(s.t.TempDir(), "cat", "0.log")
	b := Behaviour{Kind: Cat}
	id := s.create(p, "cat", b, func(c *cri.ContainerConfig) { c.LogPath, c.Stdin, c.StdinOnce = logPath, true, true })
	s.start(id, b)
	s.waitState(id, cri.ContainerRunning)
	var out syncbuf.Buffer
	err := s.rt.Attach(s.ctx, id, cri.Streams{Stdin: strings.NewReader("hello\n"), Stdout: &out, Stderr: &out})
	if err != nil || out.String() != "hello\nbye\n" {
		s.t.Errorf("Attach = %v, output %q; want \"hello\\nbye\\n\"", err, out.String())
	}
	if c := s.waitState(id, cri.ContainerExited); c.ExitCode != 0 {
		s.t.Errorf("the container exited %d, want 0", c.ExitCode)
	}
	s.logHas(logPath, "hello", "bye")
	if err := s.rt.Attach(s.ctx, id, cri.Streams{Stdout: &out}); !errors.Is(err, cri.ErrNotRunning) {
		s.t.Errorf("Attach to an exited container: %v, want ErrNotRunning", err)
	}
}

// testAttachTTY: a client attached to a TTY container types into its
// shell and sets its terminal's size; its stdin ending detaches it but
// leaves the container's stdin open for the next client.
func testAttachTTY(s *suite) {
	s.pull()
	p := s.sandbox(nil)
	logPath := filepath.Join(s.t.TempDir(), "shell", "0.log")
	b := Behaviour{Kind: Shell}
	id := s.create(p, "shell", b, func(c *cri.ContainerConfig) { c.LogPath, c.Stdin, c.TTY = logPath, true, true })
	s.start(id, b)
	s.waitState(id, cri.ContainerRunning)
	sizes := make(chan cri.TermSize, 1)
	sizes <- cri.TermSize{Width: 100, Height: 40}
	ss := s.startSession(true, sizes, func(st cri.Streams) error { return s.rt.Attach(s.ctx, id, st) })
	ss.typeLine("echo $((6*7))")
	s.eventually("the shell's answer", contains(ss.out, "42"))
	s.eventually("the terminal's size", func() error {
		ss.typeLine("stty size")
		return contains(ss.out, "40 100")()
	})
	ss.stdin.Close()
	if err := s.wait(ss, "Attach"); err != nil {
		s.t.Fatalf("Attach: %v", err)
	}
	if c, err := s.rt.ContainerStatus(s.ctx, id); err != nil || c.State != cri.ContainerRunning {
		s.t.Fatalf("after the client left: %+v, %v; want it running", c, err)
	}
	again := s.startSession(true, nil, func(st cri.Streams) error { return s.rt.Attach(s.ctx, id, st) })
	again.typeLine("exit")
	if err := s.wait(again, "second Attach"); err != nil {
		s.t.Fatalf("second Attach: %v", err)
	}
	s.waitState(id, cri.ContainerExited)
	s.logHas(logPath, "42")
}

// testAttachFollowsLog: a container without stdin or TTY is attached to
// its output as it goes to the log; stdin cannot be attached.
func testAttachFollowsLog(s *suite) {
	s.pull()
	p := s.sandbox(nil)
	b := Behaviour{Kind: Ticker}
	id := s.create(p, "ticker", b, func(c *cri.ContainerConfig) {
		c.LogPath = filepath.Join(s.t.TempDir(), "ticker", "0.log")
	})
	s.start(id, b)
	s.waitState(id, cri.ContainerRunning)
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	var out syncbuf.Buffer
	done := make(chan error, 1)
	go func() { done <- s.rt.Attach(ctx, id, cri.Streams{Stdout: &out}) }()
	s.eventually("ticks", contains(&out, "tick\n"))
	cancel()
	if err := s.wait(&session{out: &out, done: done}, "Attach after its context ended"); err != nil {
		s.t.Errorf("Attach: %v", err)
	}
	if err := s.rt.Attach(s.ctx, id, cri.Streams{Stdin: strings.NewReader("")}); err == nil {
		s.t.Error("Attach with stdin to a container created without it succeeded")
	}
}

// testAttachAfterReopen: a new runtime (the agent restarted) takes the
// stdio of running containers over: it attaches, and the output goes on
// to the same log.
func testAttachAfterReopen(s *suite) {
	s.pull()
	p := s.sandbox(nil)
	logPath := filepath.Join(s.t.TempDir(), "shell", "0.log")
	b := Behaviour{Kind: Shell}
	id := s.create(p, "shell", b, func(c *cri.ContainerConfig) { c.LogPath, c.Stdin, c.TTY = logPath, true, true })
	s.start(id, b)
	s.waitState(id, cri.ContainerRunning)
	ss := s.startSession(true, nil, func(st cri.Streams) error { return s.rt.Attach(s.ctx, id, st) })
	ss.typeLine("echo one-$((1+1))")
	s.eventually("the first answer", contains(ss.out, "one-2"))
	ss.stdin.Close()
	s.wait(ss, "Attach")
	if c, ok := s.rt.(interface{ Close() error }); ok {
		c.Close() // one runtime at a time reads a container's output
	}
	s.rt = s.env.Reopen(s.t)
	again := s.startSession(true, nil, func(st cri.Streams) error { return s.rt.Attach(s.ctx, id, st) })
	again.typeLine("echo two-$((2+2))")
	s.eventually("the answer through the new runtime", contains(again.out, "two-4"))
	again.typeLine("exit")
	if err := s.wait(again, "Attach through the new runtime"); err != nil {
		s.t.Fatalf("Attach through the new runtime: %v", err)
	}
	s.logHas(logPath, "one-2", "two-4")
}

// testPortForward: a connection forwarded to a port of the pod's loopback
// carries data both ways, intact, and ends when both sides have; a port
// nobody listens on is an error.
func testPortForward(s *suite) {
	s.pull()
	p := s.sandbox(nil)
	const port = 9000
	id := s.run(p, "echo", Behaviour{Kind: Echo, Port: port})
	s.waitState(id, cri.ContainerRunning)
	data := make([]byte, 1<<20)
	rand.Read(data)
	s.eventually("an echo through the forwarded port", func() error { return s.forwardOnce(p.id, port, data) })
	runtimeEnd, _ := streamPair()
	if err := s.rt.PortForward(s.ctx, p.id, port+1, runtimeEnd); err == nil {
		s.t.Errorf("PortForward to a port nobody listens on succeeded")
	}
}

// forwardOnce sends data through a forwarded connection and checks that
// it comes back.
func (s *suite) forwardOnce(sandboxID string, port int32, data []byte) error {
	runtimeEnd, client := streamPair()
	done := make(chan error, 1)
	go func() { done <- s.rt.PortForward(s.ctx, sandboxID, port, runtimeEnd) }()
	go func() {
		client.Write(data)
		client.Close()
	}()
	got, _ := io.ReadAll(client)
	err := <-done
	runtimeEnd.r.Close() // a writer the runtime did not read from is unblocked
	if err != nil {
		return err
	}
	if !bytes.Equal(got, data) {
		return fmt.Errorf("got %d bytes back, want the %d sent", len(got), len(data))
	}
	return nil
}
