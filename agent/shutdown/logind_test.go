package shutdown

import (
	"testing"

	"github.com/godbus/dbus/v5"
)

// Only logind's PrepareForShutdown with one boolean counts.
func TestPrepareForShutdownSignal(t *testing.T) {
	for _, tt := range []struct {
		sig        *dbus.Signal
		active, ok bool
	}{
		{&dbus.Signal{Name: "org.freedesktop.login1.Manager.PrepareForShutdown", Body: []any{true}}, true, true},
		{&dbus.Signal{Name: "org.freedesktop.login1.Manager.PrepareForShutdown", Body: []any{false}}, false, true},
		{&dbus.Signal{Name: "org.freedesktop.login1.Manager.PrepareForSleep", Body: []any{true}}, false, false},
		{&dbus.Signal{Name: "org.freedesktop.login1.Manager.PrepareForShutdown", Body: []any{"yes"}}, false, false},
		{&dbus.Signal{Name: "org.freedesktop.login1.Manager.PrepareForShutdown"}, false, false},
		{nil, false, false},
	} {
		if active, ok := prepareForShutdown(tt.sig); active != tt.active || ok != tt.ok {
			t.Errorf("%+v: %v %v, want %v %v", tt.sig, active, ok, tt.active, tt.ok)
		}
	}
}
