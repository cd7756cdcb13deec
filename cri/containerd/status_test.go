package containerd

import (
	"io"
	"log/slog"
	"maps"
	"testing"
	"time"

	tasktypes "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/containerd/v2/core/containers"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/nodeagent/nodeagent/cri"
)

func TestContainerFromRecord(t *testing.T) {
	started := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	finished := started.Add(time.Minute)
	labels := map[string]string{
		cri.LabelContainerName: "app", cri.LabelKind: "container", "app": "web",
		labelSandboxID: "sb", labelImage: "img:v1", labelImageID: "sha256:abc",
		labelLogPath: "/var/log/pods/x/app/0.log", labelStartedAt: started.Format(timeFormat),
		annotationPrefix + "note": "n",
	}
	rec := containers.Container{ID: "c1", Labels: labels, CreatedAt: started.Add(-time.Second)}
	for _, tc := range []struct {
		name     string
		labels   map[string]string
		task     *tasktypes.Process
		state    cri.ContainerState
		pid      int
		code     int32
		reason   string
		finished time.Time
	}{
		{name: "created", labels: map[string]string{labelStartedAt: ""}, state: cri.ContainerCreated},
		{name: "running", task: &tasktypes.Process{Status: tasktypes.Status_RUNNING, Pid: 42}, state: cri.ContainerRunning, pid: 42},
		{name: "exited 0", task: &tasktypes.Process{Status: tasktypes.Status_STOPPED, ExitStatus: 0, ExitedAt: timestamppb.New(finished)},
			state: cri.ContainerExited, reason: "Completed", finished: finished},
		{name: "exited 3", task: &tasktypes.Process{Status: tasktypes.Status_STOPPED, ExitStatus: 3, ExitedAt: timestamppb.New(finished)},
			state: cri.ContainerExited, code: 3, reason: "Error", finished: finished},
		{name: "oom", labels: map[string]string{labelOOMKilled: "true"},
			task:  &tasktypes.Process{Status: tasktypes.Status_STOPPED, ExitStatus: 137, ExitedAt: timestamppb.New(finished)},
			state: cri.ContainerExited, code: 137, reason: "OOMKilled", finished: finished},
		{name: "task lost", state: cri.ContainerExited, code: unknownExitCode, reason: "ContainerStatusUnknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rec
			r.Labels = maps.Clone(labels)
			maps.Copy(r.Labels, tc.labels)
			c := containerFromRecord(r, tc.task)
			if c.State != tc.state || c.Pid != tc.pid || c.ExitCode != tc.code || c.Reason != tc.reason || !c.FinishedAt.Equal(tc.finished) {
				t.Errorf("got %s pid %d code %d reason %q finished %v", c.State, c.Pid, c.ExitCode, c.Reason, c.FinishedAt)
			}
			if c.Name != "app" || c.SandboxID != "sb" || c.ImageID != "sha256:abc" || c.LogPath != labels[labelLogPath] {
				t.Errorf("identity lost: %+v", c)
			}
			want := map[string]string{cri.LabelContainerName: "app", cri.LabelKind: "container", "app": "web"}
			if !maps.Equal(c.Labels, want) {
				t.Errorf("labels %v, want %v", c.Labels, want)
			}
		})
	}
}

func TestStoredLabels(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	big := string(make([]byte, maxLabelSize))
	got, err := storedLabels(map[string]string{"a": "1"}, map[string]string{labelName: "n"},
		map[string]string{"note": "x", "huge": big}, log)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "1", labelName: "n", annotationPrefix + "note": "x"}
	if !maps.Equal(got, want) {
		t.Errorf("storedLabels = %v, want %v", got, want)
	}
	if _, err := storedLabels(map[string]string{labelName: "x"}, nil, nil, log); err == nil {
		t.Errorf("a public label with the internal prefix was accepted")
	}
}
