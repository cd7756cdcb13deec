package shutdown

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/godbus/dbus/v5"
)

const (
	logindService   = "org.freedesktop.login1"
	logindPath      = dbus.ObjectPath("/org/freedesktop/login1")
	logindInterface = "org.freedesktop.login1.Manager"
)

// Logind is the Inhibitor of systemd-logind on the system bus.
type Logind struct {
	conn *dbus.Conn
}

var _ Inhibitor = &Logind{}

// NewLogind connects to the system bus; it fails where there is no D-Bus
// or no logind (no systemd).
func NewLogind() (*Logind, error) {
	conn, err := dbus.ConnectSystemBus()
	if err != nil {
		return nil, fmt.Errorf("system bus: %w", err)
	}
	l := &Logind{conn: conn}
	if _, err := l.MaxDelay(); err != nil {
		conn.Close()
		return nil, err
	}
	return l, nil
}

// Close ends the connection (and so every lock it holds).
func (l *Logind) Close() error { return l.conn.Close() }

func (l *Logind) manager() dbus.BusObject { return l.conn.Object(logindService, logindPath) }

// Inhibit calls Manager.Inhibit("shutdown", who, why, "delay"); the lock
// is the descriptor it returns.
func (l *Logind) Inhibit(who, why string) (Lock, error) {
	var fd dbus.UnixFD
	if err := l.manager().Call(logindInterface+".Inhibit", 0, "shutdown", who, why, "delay").Store(&fd); err != nil {
		return nil, fmt.Errorf("logind inhibit: %w", err)
	}
	return fdLock{os.NewFile(uintptr(fd), "inhibit")}, nil
}

// MaxDelay reads InhibitDelayMaxUSec.
func (l *Logind) MaxDelay() (time.Duration, error) {
	v, err := l.manager().GetProperty(logindInterface + ".InhibitDelayMaxUSec")
	if err != nil {
		return 0, fmt.Errorf("logind InhibitDelayMaxUSec: %w", err)
	}
	us, ok := v.Value().(uint64)
	if !ok {
		return 0, fmt.Errorf("logind InhibitDelayMaxUSec is %T", v.Value())
	}
	return time.Duration(us) * time.Microsecond, nil
}

// Events subscribes to PrepareForShutdown.
func (l *Logind) Events(ctx context.Context) (<-chan bool, error) {
	if err := l.conn.AddMatchSignal(dbus.WithMatchObjectPath(logindPath), dbus.WithMatchInterface(logindInterface),
		dbus.WithMatchMember("PrepareForShutdown")); err != nil {
		return nil, fmt.Errorf("logind PrepareForShutdown: %w", err)
	}
	signals := make(chan *dbus.Signal, 4)
	l.conn.Signal(signals)
	out := make(chan bool, 1)
	go func() {
		defer close(out)
		defer l.conn.RemoveSignal(signals)
		for {
			select {
			case <-ctx.Done():
				return
			case s := <-signals:
				if active, ok := prepareForShutdown(s); ok {
					out <- active
				}
			}
		}
	}()
	return out, nil
}

func prepareForShutdown(s *dbus.Signal) (bool, bool) {
	if s == nil || s.Name != logindInterface+".PrepareForShutdown" || len(s.Body) != 1 {
		return false, false
	}
	active, ok := s.Body[0].(bool)
	return active, ok
}

type fdLock struct{ f *os.File }

func (l fdLock) Release() error { return l.f.Close() }
