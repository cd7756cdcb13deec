// Package conformance is one test suite for every cri.Runtime: the fake
// (cri/fake) and containerd (cri/containerd) pass the same cases, as
// containerd's snapshotter test suite does for snapshotters.
package conformance

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/cri"
)

// Kind is what a container's process does.
type Kind int

const (
	// Pause runs until its stop signal, then exits.
	Pause Kind = iota
	// IgnoreTerm ignores SIGTERM and runs until it is killed.
	IgnoreTerm
	// Exit exits with Behaviour.Code at once.
	Exit
	// Print writes Behaviour.Stdout to stdout and Behaviour.Stderr to
	// stderr, one line each, then exits 0.
	Print
	// Hog allocates memory until the kernel kills it; the suite runs it with
	// a memory limit of HogLimit.
	Hog
	// Cat copies its stdin to stdout until it ends, then writes "bye" and
	// exits 0 (`sh -c 'cat; echo bye'`).
	Cat
	// Shell is an interactive shell on a terminal: it runs the lines it
	// reads (the suite types `echo $((6*7))`, `stty size`, `exit`).
	Shell
	// Ticker writes "tick" lines to stdout, a few a second, until stopped.
	Ticker
	// Echo serves TCP echo on Behaviour.Port of the pod's loopback.
	Echo
	// Flood writes Behaviour.Lines lines to stdout, FloodLine(0) to
	// FloodLine(Lines-1), as fast as it can, then exits 0.
	Flood
)

// FloodLine is line i of a Flood container's output: "line <i, 5 digits> "
// and 50 x's.
func FloodLine(i int) string { return fmt.Sprintf("line %05d %s", i, strings.Repeat("x", 50)) }

// HogLimit is the memory limit of a Hog container.
const HogLimit = 32 << 20

// Behaviour describes a container's process; Env.Command turns it into a
// command line for the runtime under test.
type Behaviour struct {
	Kind           Kind
	Code           int    // for Exit
	Stdout, Stderr string // for Print
	Port           int    // for Echo
	Lines          int    // for Flood
}

// Env is what differs between the runtimes under test.
type Env struct {
	// Image is a reference the suite pulls. Its default command must run
	// until stopped, and the commands from Command must work in it.
	Image string
	// NetNS returns a network namespace path for a new sandbox; it is
	// removed when t ends.
	NetNS func(t *testing.T) string
	// Command returns the Command and Args of a container that behaves as b.
	Command func(b Behaviour) (command, args []string)
	// Started, if set, is called once StartContainer of a container created
	// with Command(b) has returned: a fake plays b here.
	Started func(t *testing.T, id string, b Behaviour)
	// Reopen returns a new Runtime over the same runtime state, as a
	// restarted agent would make.
	Reopen func(t *testing.T) cri.Runtime
	// AssertClean, if set, checks that nothing is left behind beyond what
	// the List methods report (e.g. snapshots) once everything is removed.
	AssertClean func(t *testing.T)
	// Timeout bounds every wait for a condition; default 30 s.
	Timeout time.Duration
}

// Run runs the suite. newRuntime is called once per case, with the case's t:
// it returns a fresh Runtime (the case removes what it makes, and the
// runtime's own cleanup goes in t.Cleanup) and its Env.
func Run(t *testing.T, newRuntime func(t *testing.T) (cri.Runtime, Env)) {
	cases := []struct {
		name string
		fn   func(*suite)
	}{
		{"Version", testVersion},
		{"Images", testImages},
		{"SandboxLifecycle", testSandboxLifecycle},
		{"ContainerLifecycle", testContainerLifecycle},
		{"ContainerExitCode", testContainerExitCode},
		{"StopTimeoutKills", testStopTimeoutKills},
		{"OOMKilled", testOOMKilled},
		{"ExecSync", testExecSync},
		{"ExecStreams", testExecStreams},
		{"ExecTTY", testExecTTY},
		{"AttachStdinOnce", testAttachStdinOnce},
		{"AttachTTY", testAttachTTY},
		{"AttachFollowsLog", testAttachFollowsLog},
		{"AttachAfterReopen", testAttachAfterReopen},
		{"PortForward", testPortForward},
		{"Devices", testDevices},
		{"Logs", testLogs},
		{"LogRotation", testLogRotation},
		{"LogRotationWithStdio", testLogRotationWithStdio},
		{"ImageFs", testImageFs},
		{"RemoveSandboxRemovesContainers", testRemoveSandboxRemovesContainers},
		{"NotFound", testNotFound},
		{"Adoption", testAdoption},
		{"EventsEndWithContext", testEventsEndWithContext},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rt, env := newRuntime(t)
			if env.Timeout == 0 {
				env.Timeout = 30 * time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), 4*env.Timeout)
			t.Cleanup(cancel)
			tc.fn(&suite{t: t, rt: rt, env: env, ctx: ctx})
		})
	}
}
