package ctrio

import (
	"io"
	"time"
)

// HalfCloser is a connection whose sending side closes on its own, as a
// TCP connection's does.
type HalfCloser interface {
	io.ReadWriteCloser
	CloseWrite() error
}

// spliceGrace is how long Splice waits, once conn has ended, for the
// client to finish sending (containerd's CRI waits the same).
const spliceGrace = time.Second

// Splice copies between a client's stream and a connection to the pod
// until both directions end (a direction that ends is half-closed on the
// other side, so that request-then-response protocols work), or until
// spliceGrace after the pod's side ended. It closes both.
func Splice(conn HalfCloser, stream io.ReadWriteCloser) error {
	toPod := make(chan error, 1)
	go func() {
		_, err := io.Copy(conn, stream)
		conn.CloseWrite()
		toPod <- err
	}()
	_, fromPod := io.Copy(stream, conn)
	stream.Close()
	t := time.NewTimer(spliceGrace)
	defer t.Stop()
	var err error
	select {
	case err = <-toPod:
	case <-t.C:
	}
	conn.Close()
	if fromPod != nil {
		return fromPod
	}
	return err
}
