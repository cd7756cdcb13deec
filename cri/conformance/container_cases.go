package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/nodeagent/nodeagent/cri"
)

func testContainerLifecycle(s *suite) {
	imageID := s.pull()
	p := s.sandbox(nil)
	events := s.events(s.rt)
	b := Behaviour{Kind: Pause}
	id := s.create(p, "app", b, nil)
	s.waitPodEvent(events, cri.EventContainerCreated, id, p.uid)
	c, err := s.rt.ContainerStatus(s.ctx, id)
	if err != nil {
		s.t.Fatalf("ContainerStatus: %v", err)
	}
	if c.State != cri.ContainerCreated || c.SandboxID != p.id || c.Name != "app" || c.CreatedAt.IsZero() ||
		c.ImageID != imageID || c.Pid != 0 {
		s.t.Errorf("created container = %+v, want Created in sandbox %s, named app, image ID %s, no pid", c, p.id, imageID)
	}
	want := map[string]string{
		cri.LabelPodUID: p.uid, cri.LabelContainerName: "app", cri.LabelKind: "container",
		cri.LabelAttempt: "0", "example.com/role": "app",
	}
	if err := hasLabels(c.Labels, want); err != nil {
		s.t.Error(err)
	}
	s.start(id, b)
	s.waitPodEvent(events, cri.EventContainerStarted, id, p.uid)
	c = s.waitState(id, cri.ContainerRunning)
	if c.Pid <= 0 || c.StartedAt.IsZero() {
		s.t.Errorf("running container = %+v, want a pid and a start time", c)
	}
	if err := s.rt.StartContainer(s.ctx, id); err == nil {
		s.t.Errorf("second StartContainer succeeded, want an error")
	}
	list, err := s.rt.ListContainers(s.ctx, map[string]string{cri.LabelPodUID: p.uid, cri.LabelContainerName: "app"})
	if err != nil || len(list) != 1 || list[0].ID != id || list[0].Pid != c.Pid {
		s.t.Errorf("ListContainers(pod, app) = %+v, %v; want just %s with pid %d", list, err, id, c.Pid)
	}
	start := time.Now()
	if err := s.rt.StopContainer(s.ctx, id, 20*time.Second); err != nil {
		s.t.Fatalf("StopContainer: %v", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		s.t.Errorf("StopContainer of a container that exits on SIGTERM took %v", d)
	}
	c = s.waitState(id, cri.ContainerExited)
	if c.FinishedAt.IsZero() || c.Pid != 0 {
		s.t.Errorf("stopped container = %+v, want a finish time and no pid", c)
	}
	s.waitPodEvent(events, cri.EventContainerExited, id, p.uid)
	if err := s.rt.RemoveContainer(s.ctx, id); err != nil {
		s.t.Fatalf("RemoveContainer: %v", err)
	}
	s.waitPodEvent(events, cri.EventContainerDeleted, id, p.uid)
	if _, err := s.rt.ContainerStatus(s.ctx, id); !errors.Is(err, cri.ErrNotFound) {
		s.t.Errorf("ContainerStatus after RemoveContainer: %v, want ErrNotFound", err)
	}
	if list, err := s.rt.ListContainers(s.ctx, nil); err != nil || len(list) != 0 {
		s.t.Errorf("ListContainers after RemoveContainer = %+v, %v; want none", list, err)
	}
	if err := s.rt.RemovePodSandbox(s.ctx, p.id); err != nil {
		s.t.Fatalf("RemovePodSandbox: %v", err)
	}
	if s.env.AssertClean != nil {
		s.env.AssertClean(s.t)
	}
}

func testContainerExitCode(s *suite) {
	s.pull()
	p := s.sandbox(nil)
	events := s.events(s.rt)
	b := Behaviour{Kind: Exit, Code: 3}
	id := s.run(p, "fails", b)
	ev := s.waitEvent(events, cri.EventContainerExited, id)
	if ev.PodUID != p.uid || ev.Time.IsZero() {
		s.t.Errorf("exit event = %+v, want pod UID %s and a time", ev, p.uid)
	}
	c := s.waitState(id, cri.ContainerExited)
	if c.ExitCode != 3 || c.FinishedAt.IsZero() || c.Reason != "Error" {
		s.t.Errorf("exited container = %+v, want exit code 3, reason Error, a finish time", c)
	}
	if c.FinishedAt.Before(c.StartedAt) {
		s.t.Errorf("finished at %v, before it started at %v", c.FinishedAt, c.StartedAt)
	}
	if err := s.rt.StopContainer(s.ctx, id, time.Second); err != nil {
		s.t.Errorf("StopContainer of an exited container: %v", err)
	}
}

func testStopTimeoutKills(s *suite) {
	s.pull()
	p := s.sandbox(nil)
	b := Behaviour{Kind: IgnoreTerm}
	id := s.run(p, "stubborn", b)
	s.waitState(id, cri.ContainerRunning)
	const timeout = 1500 * time.Millisecond
	start := time.Now()
	if err := s.rt.StopContainer(s.ctx, id, timeout); err != nil {
		s.t.Fatalf("StopContainer: %v", err)
	}
	if d := time.Since(start); d < timeout {
		s.t.Errorf("StopContainer returned after %v, before its timeout %v", d, timeout)
	}
	c := s.waitState(id, cri.ContainerExited)
	if c.ExitCode != 137 {
		s.t.Errorf("exit code %d, want 137 (SIGKILL)", c.ExitCode)
	}
}

func testOOMKilled(s *suite) {
	s.pull()
	p := s.sandbox(nil)
	events := s.events(s.rt)
	b := Behaviour{Kind: Hog}
	id := s.create(p, "hog", b, func(c *cri.ContainerConfig) { c.Resources.MemoryLimit = HogLimit })
	s.start(id, b)
	if ev := s.waitEvent(events, cri.EventContainerOOM, id); ev.PodUID != p.uid {
		s.t.Errorf("OOM event %+v, want pod UID %s", ev, p.uid)
	}
	s.waitEvent(events, cri.EventContainerExited, id)
	c := s.waitState(id, cri.ContainerExited)
	if c.ExitCode != 137 || c.Reason != "OOMKilled" {
		s.t.Errorf("OOM-killed container = %+v, want exit code 137, reason OOMKilled", c)
	}
}

func testExecSync(s *suite) {
	s.pull()
	p := s.sandbox(nil)
	id := s.run(p, "app", Behaviour{Kind: Pause})
	s.waitState(id, cri.ContainerRunning)
	res, err := s.rt.ExecSync(s.ctx, id, []string{"echo", "hi"}, 10*time.Second)
	if err != nil {
		s.t.Fatalf("ExecSync(echo hi): %v", err)
	}
	if string(res.Stdout) != "hi\n" || res.ExitCode != 0 {
		s.t.Errorf("ExecSync(echo hi) = %q (stderr %q), exit %d; want \"hi\\n\", 0", res.Stdout, res.Stderr, res.ExitCode)
	}
	res, err = s.rt.ExecSync(s.ctx, id, []string{"sh", "-c", "exit 7"}, 10*time.Second)
	if err != nil {
		s.t.Fatalf("ExecSync(exit 7): %v", err)
	}
	if res.ExitCode != 7 {
		s.t.Errorf("ExecSync(exit 7) exit code %d, want 7", res.ExitCode)
	}
}

// testDevices gives a container /dev/null at another path (a block
// volume's device node is given the same way) and checks that it is
// there as a character device; a host path that is no device is refused.
func testDevices(s *suite) {
	s.pull()
	p := s.sandbox(nil)
	dev := cri.Device{HostPath: "/dev/null", ContainerPath: "/dev/nodeagent-null", Permissions: "rw"}
	b := Behaviour{Kind: Pause}
	id := s.create(p, "dev", b, func(c *cri.ContainerConfig) { c.Devices = []cri.Device{dev} })
	s.start(id, b)
	s.waitState(id, cri.ContainerRunning)
	for path, want := range map[string]int32{dev.ContainerPath: 0, "/dev/nodeagent-absent": 1} {
		res, err := s.rt.ExecSync(s.ctx, id, []string{"sh", "-c", "test -c " + path}, 10*time.Second)
		if err != nil || res.ExitCode != want {
			s.t.Errorf("test -c %s: exit %d (%s) %v, want %d", path, res.ExitCode, res.Stderr, err, want)
		}
	}
	notDev := cri.Device{HostPath: filepath.Join(s.t.TempDir(), "file"), ContainerPath: "/dev/x", Permissions: "rw"}
	if err := os.WriteFile(notDev.HostPath, nil, 0o600); err != nil {
		s.t.Fatal(err)
	}
	cfg := cri.ContainerConfig{Name: "notdev", Image: s.env.Image, Devices: []cri.Device{notDev}}
	cfg.Command, cfg.Args = s.env.Command(b)
	if id, err := s.rt.CreateContainer(s.ctx, p.id, cfg); err == nil {
		s.t.Errorf("a container with a regular file as its device was created: %s", id)
	}
}

// criLine is one line of a CRI-format log file.
var criLine = regexp.MustCompile(`^(\S+) (stdout|stderr) ([FP]) (.*)$`)

func testLogs(s *suite) {
	s.pull()
	p := s.sandbox(nil)
	logPath := filepath.Join(s.t.TempDir(), "pods", p.uid, "printer", "0.log")
	b := Behaviour{Kind: Print, Stdout: "out-" + p.uid, Stderr: "err-" + p.uid}
	id := s.create(p, "printer", b, func(c *cri.ContainerConfig) { c.LogPath = logPath })
	s.start(id, b)
	s.waitState(id, cri.ContainerExited)
	s.eventually("log lines", func() error {
		data, err := os.ReadFile(logPath)
		if err != nil {
			return err
		}
		return checkLog(data, map[string]string{"stdout": b.Stdout, "stderr": b.Stderr})
	})
	c, err := s.rt.ContainerStatus(s.ctx, id)
	if err != nil || c.LogPath != logPath {
		s.t.Errorf("ContainerStatus = %+v, %v; want log path %s", c, err, logPath)
	}
}

// checkLog checks that every line is in CRI format and that each stream's
// wanted line is there as a full line.
func checkLog(data []byte, want map[string]string) error {
	found := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		m := criLine.FindStringSubmatch(line)
		if m == nil {
			return fmt.Errorf("line %q is not in CRI log format", line)
		}
		if _, err := time.Parse(time.RFC3339Nano, m[1]); err != nil {
			return fmt.Errorf("line %q: bad time: %v", line, err)
		}
		if m[3] == "F" && want[m[2]] == m[4] {
			found[m[2]] = true
		}
	}
	for stream := range want {
		if !found[stream] {
			return fmt.Errorf("no full %s line %q in %q", stream, want[stream], bytes.TrimSpace(data))
		}
	}
	return nil
}
