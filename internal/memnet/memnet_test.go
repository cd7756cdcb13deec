package memnet

import (
	"context"
	"errors"
	"io"
	"syscall"
	"testing"
)

func TestDialReachesListenerAndRefusesOthers(t *testing.T) {
	n := New()
	l := n.Listen("10.0.0.1:80")
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		_, _ = c.Write([]byte("hi"))
		_ = c.Close()
	}()
	c, err := n.Dial(context.Background(), "tcp", "10.0.0.1:80")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	if string(b) != "hi" {
		t.Fatalf("read %q", b)
	}
	_, err = n.Dial(context.Background(), "tcp", "10.0.0.1:81")
	if !errors.Is(err, syscall.ECONNREFUSED) || err.Error() != "dial tcp 10.0.0.1:81: connect: connection refused" {
		t.Fatalf("dial to nothing: %v", err)
	}
	_ = l.Close()
	if _, err := n.Dial(context.Background(), "tcp", "10.0.0.1:80"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial after close: %v", err)
	}
	if got := n.Dialed(); len(got) != 3 || got[1] != "10.0.0.1:81" {
		t.Fatalf("dialed %v", got)
	}
}
