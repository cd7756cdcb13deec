package fake_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/conformance"
	"github.com/nodeagent/nodeagent/cri/fake"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) (cri.Runtime, conformance.Env) {
		f := fake.New()
		f.SetExecHandler(func(id string, cmd []string) (cri.ExecResult, error) { return shell(f, id, cmd) })
		f.SetStreamExecHandler(func(id string, cmd []string, s cri.Streams) (int32, error) { return streamShell(f, id, cmd, s) })
		return f, conformance.Env{
			Image:   "example.com/app:v1",
			NetNS:   func(t *testing.T) string { return "/var/run/netns/" + t.Name() },
			Command: command,
			Started: func(t *testing.T, id string, b conformance.Behaviour) { play(t, f, id, b) },
			Reopen:  func(*testing.T) cri.Runtime { return f.Reopen() },
			Timeout: 5 * time.Second,
		}
	})
}

// command encodes a behaviour as a command line that play decodes.
func command(b conformance.Behaviour) ([]string, []string) {
	switch b.Kind {
	case conformance.IgnoreTerm:
		return []string{"ignore-term"}, nil
	case conformance.Exit:
		return []string{"exit", strconv.Itoa(b.Code)}, nil
	case conformance.Print:
		return []string{"print", b.Stdout, b.Stderr}, nil
	case conformance.Hog:
		return []string{"hog"}, nil
	case conformance.Cat:
		return []string{"cat"}, nil
	case conformance.Shell:
		return []string{"sh"}, nil
	case conformance.Ticker:
		return []string{"ticker"}, nil
	case conformance.Echo:
		return []string{"echo-server", strconv.Itoa(b.Port)}, nil
	case conformance.Flood:
		return []string{"flood", strconv.Itoa(b.Lines)}, nil
	}
	return nil, []string{"pause"}
}

// play makes the fake do what the behaviour's process would.
func play(t *testing.T, f *fake.Fake, id string, b conformance.Behaviour) {
	var err error
	switch b.Kind {
	case conformance.IgnoreTerm:
		err = f.IgnoreTerm(id)
	case conformance.Exit:
		err = f.ExitContainer(id, int32(b.Code), "")
	case conformance.Hog:
		err = f.OOM(id)
	case conformance.Print:
		err = errors.Join(f.WriteLog(id, "stdout", b.Stdout), f.WriteLog(id, "stderr", b.Stderr),
			f.ExitContainer(id, 0, ""))
	case conformance.Cat, conformance.Shell, conformance.Ticker, conformance.Echo:
		err = playStreams(f, id, b)
	case conformance.Flood:
		err = errors.Join(flood(f, id, b.Lines), f.ExitContainer(id, 0, ""))
	}
	if err != nil {
		t.Fatalf("play %+v in %s: %v", b, id, err)
	}
}

// shell answers the kinds of command the suite execs: echo, sh -c
// "exit N" and sh -c "test -c <path>" (a character device the container
// was given).
func shell(f *fake.Fake, id string, cmd []string) (cri.ExecResult, error) {
	switch {
	case len(cmd) == 3 && cmd[0] == "sh" && strings.HasPrefix(cmd[2], "test -c "):
		cfg, _ := f.ContainerConfig(id)
		for _, d := range cfg.Devices {
			if d.ContainerPath == strings.TrimPrefix(cmd[2], "test -c ") {
				return cri.ExecResult{}, nil
			}
		}
		return cri.ExecResult{ExitCode: 1}, nil
	case len(cmd) > 0 && cmd[0] == "echo":
		return cri.ExecResult{Stdout: []byte(strings.Join(cmd[1:], " ") + "\n")}, nil
	case len(cmd) == 3 && cmd[0] == "sh" && strings.HasPrefix(cmd[2], "exit "):
		code, err := strconv.Atoi(strings.TrimPrefix(cmd[2], "exit "))
		return cri.ExecResult{ExitCode: int32(code)}, err
	}
	return cri.ExecResult{Stderr: []byte(cmd[0] + ": not found\n"), ExitCode: 127}, nil
}

func TestOOM(t *testing.T) {
	ctx := context.Background()
	f := fake.New()
	f.AddImage("img")
	sb, _ := f.RunPodSandbox(ctx, cri.SandboxConfig{Labels: map[string]string{cri.LabelPodUID: "u1"}})
	id, err := f.CreateContainer(ctx, sb, cri.ContainerConfig{Name: "c", Image: "img"})
	if err != nil {
		t.Fatal(err)
	}
	events, _ := f.Events(ctx)
	if err := f.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := f.OOM(id); err != nil {
		t.Fatal(err)
	}
	c, _ := f.ContainerStatus(ctx, id)
	if c.State != cri.ContainerExited || c.ExitCode != 137 || c.Reason != "OOMKilled" {
		t.Errorf("after OOM: %+v", c)
	}
	var got []cri.EventType
	for range 3 {
		ev := <-events
		if ev.PodUID != "u1" {
			t.Errorf("event %+v has no pod UID u1", ev)
		}
		got = append(got, ev.Type)
	}
	want := []cri.EventType{cri.EventContainerStarted, cri.EventContainerOOM, cri.EventContainerExited}
	if strings.Join(types(got), ",") != strings.Join(types(want), ",") {
		t.Errorf("events %v, want %v", got, want)
	}
}

func types(ts []cri.EventType) []string {
	var out []string
	for _, t := range ts {
		out = append(out, string(t))
	}
	return out
}

func TestFailures(t *testing.T) {
	ctx := context.Background()
	f := fake.New()
	boom := errors.New("registry down")
	f.FailNextPull("img", boom)
	if _, err := f.PullImage(ctx, "img", nil); !errors.Is(err, boom) {
		t.Errorf("first pull: %v, want %v", err, boom)
	}
	if _, err := f.PullImage(ctx, "img", nil); err != nil {
		t.Errorf("second pull: %v", err)
	}
	f.FailNext("RunPodSandbox", boom)
	if _, err := f.RunPodSandbox(ctx, cri.SandboxConfig{}); !errors.Is(err, boom) {
		t.Errorf("RunPodSandbox: %v, want %v", err, boom)
	}
}

func TestClockAndBrokenStream(t *testing.T) {
	ctx := context.Background()
	f := fake.New()
	at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	f.SetClock(func() time.Time { return at })
	events, _ := f.Events(ctx)
	sb, _ := f.RunPodSandbox(ctx, cri.SandboxConfig{})
	if err := f.ExitSandbox(sb); err != nil {
		t.Fatal(err)
	}
	if ev := <-events; ev.Type != cri.EventSandboxExited || !ev.Time.Equal(at) {
		t.Errorf("event %+v, want SandboxExited at %v", ev, at)
	}
	list, _ := f.ListPodSandboxes(ctx, nil)
	if len(list) != 1 || !list[0].CreatedAt.Equal(at) || list[0].State != cri.SandboxNotReady {
		t.Errorf("sandboxes %+v", list)
	}
	f.BreakEvents()
	if _, ok := <-events; ok {
		t.Errorf("event channel still open after BreakEvents")
	}
}

// flood writes a Flood container's lines: to its stdio when it keeps one,
// else to its log.
func flood(f *fake.Fake, id string, lines int) error {
	_, stdout, _, err := f.Stdio(id)
	for i := 0; i < lines; i++ {
		if err == nil {
			_, err = fmt.Fprintln(stdout, conformance.FloodLine(i))
		} else if err := f.WriteLog(id, "stdout", conformance.FloodLine(i)); err != nil {
			return err
		}
	}
	return nil
}
