package ctrio

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/internal/syncbuf"
)

var stamp = time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)

const ts = "2026-12-06T09:00:00.000000000Z"

func open(t *testing.T, cfg Config) (*IO, string) {
	t.Helper()
	cfg.LogPath = filepath.Join(t.TempDir(), "c", "0.log")
	cfg.Now = func() time.Time { return stamp }
	c, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseOutput() })
	return c, cfg.LogPath
}

func logOf(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func attach(c *IO, s cri.Streams, closeStdin func() error) <-chan error {
	done := make(chan error, 1)
	go func() { done <- c.Attach(context.Background(), s, closeStdin) }()
	return done
}

func wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 10s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func result(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Attach did not return within 10s")
		return nil
	}
}

// Output reaches the log and each attached client; a client's stdin
// reaches the process; when it ends (no StdinOnce) the client is detached
// and the process's stdin stays open for the next one.
func TestAttachSharesOutputAndStdin(t *testing.T) {
	c, logPath := open(t, Config{Stdin: true})
	c.ProcessStdout().Write([]byte("before\n"))
	var out1, out2, err1 syncbuf.Buffer
	inR, inW := io.Pipe()
	done1 := attach(c, cri.Streams{Stdin: inR, Stdout: &out1, Stderr: &err1}, nil)
	done2 := attach(c, cri.Streams{Stdout: &out2}, nil)
	wait(t, "two clients attached", func() bool { c.stdout.mu.Lock(); defer c.stdout.mu.Unlock(); return len(c.stdout.sinks) == 2 })
	go inW.Write([]byte("typed\n"))
	got := make([]byte, 6)
	if _, err := io.ReadFull(c.ProcessStdin(), got); err != nil || string(got) != "typed\n" {
		t.Fatalf("process stdin: %q %v", got, err)
	}
	c.ProcessStdout().Write([]byte("out\n"))
	c.ProcessStderr().Write([]byte("err\n"))
	wait(t, "output at both clients", func() bool { return out1.String() == "out\n" && out2.String() == "out\n" && err1.String() == "err\n" })
	inW.Close()
	if err := result(t, done1); err != nil {
		t.Fatal(err)
	}
	c.ProcessStdout().Write([]byte("after\n"))
	wait(t, "output after the first client left", func() bool { return out2.String() == "out\nafter\n" })
	if out1.String() != "out\n" {
		t.Errorf("the detached client got %q", out1.String())
	}
	c.CloseOutput()
	if err := result(t, done2); err != nil {
		t.Fatal(err)
	}
	want := ts + " stdout F before\n" + ts + " stdout F out\n" + ts + " stderr F err\n" + ts + " stdout F after\n"
	if got := logOf(t, logPath); got != want {
		t.Errorf("log %q, want %q", got, want)
	}
}

// StdinOnce without a TTY: the first client's stdin end closes the
// process's stdin (the pipe and the runtime's end); the client stays until
// the output ends.
func TestStdinOnceClosesStdin(t *testing.T) {
	c, _ := open(t, Config{Stdin: true, StdinOnce: true})
	closed := make(chan struct{})
	var out syncbuf.Buffer
	done := attach(c, cri.Streams{Stdin: strings.NewReader("all\n"), Stdout: &out}, func() error { close(closed); return nil })
	data, err := io.ReadAll(c.ProcessStdin())
	if err != nil || string(data) != "all\n" {
		t.Fatalf("process stdin: %q %v", data, err)
	}
	<-closed
	c.ProcessStdout().Write([]byte("bye\n"))
	wait(t, "output after stdin closed", func() bool { return out.String() == "bye\n" })
	select {
	case <-done:
		t.Fatal("Attach returned before the output ended")
	default:
	}
	c.CloseOutput()
	if err := result(t, done); err != nil {
		t.Fatal(err)
	}
}

// With a TTY the output is one stream; stdin ending detaches the client
// but keeps the process's stdin open, even with StdinOnce.
func TestTTY(t *testing.T) {
	c, _ := open(t, Config{Stdin: true, StdinOnce: true, TTY: true})
	if c.ProcessStderr() != nil {
		t.Fatal("a TTY container has a stderr")
	}
	var out, errOut syncbuf.Buffer
	done := attach(c, cri.Streams{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, TTY: true},
		func() error { t.Error("stdin closed with a TTY"); return nil })
	if err := result(t, done); err != nil {
		t.Fatal(err)
	}
	go c.stdinW.Write([]byte("x"))
	b := make([]byte, 1)
	if _, err := c.ProcessStdin().Read(b); err != nil {
		t.Fatalf("stdin closed after a TTY client left: %v", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("client gone") }

// A client whose output fails is detached; the output goes on.
func TestFailingClientIsDetached(t *testing.T) {
	c, logPath := open(t, Config{})
	done := attach(c, cri.Streams{Stdout: failingWriter{}}, nil)
	wait(t, "client attached", func() bool { c.stdout.mu.Lock(); defer c.stdout.mu.Unlock(); return len(c.stdout.sinks) == 1 })
	c.ProcessStdout().Write([]byte("x\n"))
	if err := result(t, done); err != nil {
		t.Fatal(err)
	}
	c.ProcessStdout().Write([]byte("y\n"))
	if got := logOf(t, logPath); !strings.HasSuffix(got, "stdout F y\n") {
		t.Errorf("log %q", got)
	}
}

func TestAttachStdinWithoutStdin(t *testing.T) {
	c, _ := open(t, Config{})
	if err := c.Attach(context.Background(), cri.Streams{Stdin: strings.NewReader("")}, nil); !errors.Is(err, ErrNoStdin) {
		t.Fatalf("Attach(stdin) = %v, want ErrNoStdin", err)
	}
}

// An incomplete line goes to the log as a full record when the output
// ends, as a partial one when the stdio is released.
func TestEndFlushesIncompleteLines(t *testing.T) {
	c, logPath := open(t, Config{})
	c.ProcessStdout().Write([]byte("half"))
	c.Release()
	if got := logOf(t, logPath); got != ts+" stdout P half\n" {
		t.Errorf("released: %q", got)
	}
	c, logPath = open(t, Config{})
	c.ProcessStderr().Write([]byte("last"))
	c.CloseOutput()
	if got := logOf(t, logPath); got != ts+" stderr F last\n" {
		t.Errorf("closed: %q", got)
	}
	select {
	case <-c.Ended():
	default:
		t.Error("Ended is open after CloseOutput")
	}
}
