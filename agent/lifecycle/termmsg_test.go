package lifecycle

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// criLog writes records in CRI format.
func criLog(t *testing.T, dir string, records ...string) string {
	t.Helper()
	p := filepath.Join(dir, "0.log")
	var b strings.Builder
	for _, r := range records {
		b.WriteString("2026-12-01T10:00:00.000000001Z " + r + "\n")
	}
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTerminationMessage(t *testing.T) {
	dir := t.TempDir()
	log := criLog(t, dir, "stdout F starting", "stderr P panic: ", "stderr F boom")
	written := filepath.Join(dir, "written")
	if err := os.WriteFile(written, []byte("bye"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	file, fallback := corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError
	for _, tc := range []struct {
		name   string
		policy corev1.TerminationMessagePolicy
		file   string
		code   int32
		reason string
		want   string
	}{
		{name: "the file", policy: file, file: written, code: 1, want: "bye"},
		{name: "the file wins over the logs", policy: fallback, file: written, code: 1, want: "bye"},
		{name: "empty file, ReadFile", policy: file, file: empty, code: 1, want: ""},
		{name: "empty file, failed: the logs", policy: fallback, file: empty, code: 1, want: "starting\npanic: boom\n"},
		{name: "no file, failed: the logs", policy: fallback, file: filepath.Join(dir, "missing"), code: 2, want: "starting\npanic: boom\n"},
		{name: "no mount, failed: the logs", policy: fallback, code: 2, want: "starting\npanic: boom\n"},
		{name: "succeeded: no logs", policy: fallback, file: empty, code: 0, want: ""},
		{name: "never ran: no logs", policy: fallback, file: empty, code: 128, reason: "ContainerCannotRun", want: ""},
		{name: "not a regular file", policy: file, file: fifo, code: 1, want: "Error on reading termination log " + fifo + ": " + fifo + " is not a regular file"},
	} {
		spec := &corev1.Container{TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: tc.policy}
		got := TerminationMessage(spec, Exited{ExitCode: tc.code, Reason: tc.reason, MessageFile: tc.file, LogPath: log})
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestMessageLimits(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	body := strings.Repeat("a", 5000) + strings.Repeat("z", MaxMessageLength)
	if err := os.WriteFile(big, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadMessageFile(big); err != nil || got != strings.Repeat("z", MaxMessageLength) {
		t.Fatalf("%d bytes, %v: want the last 4096", len(got), err)
	}
	// 100 lines of 50 bytes: the last 80 lines, then their last 2 KiB.
	var recs []string
	for i := range 100 {
		recs = append(recs, fmt.Sprintf("stdout F %03d%s", i, strings.Repeat("x", 46)))
	}
	log := criLog(t, dir, recs...)
	got, err := LogTail(log, MaxLogMessageLines, MaxLogMessageLength)
	if err != nil || len(got) != MaxLogMessageLength || !strings.HasSuffix(got, "099"+strings.Repeat("x", 46)+"\n") {
		t.Fatalf("%d bytes, %v, ends %q", len(got), err, got[len(got)-60:])
	}
	few, _ := LogTail(log, 2, MaxLogMessageLength)
	if few != "098"+strings.Repeat("x", 46)+"\n099"+strings.Repeat("x", 46)+"\n" {
		t.Fatalf("two lines: %q", few)
	}
}

func TestLogTailOfALongLog(t *testing.T) {
	dir := t.TempDir()
	// 10 MiB of log (LogTail reads its last 64 KiB): the answer is its end.
	var recs []string
	line := strings.Repeat("y", 1000)
	for range 10 << 10 {
		recs = append(recs, "stdout F "+line)
	}
	recs = append(recs, "stdout F the end")
	got, err := LogTail(criLog(t, dir, recs...), MaxLogMessageLines, MaxLogMessageLength)
	if err != nil || len(got) != MaxLogMessageLength || !strings.HasSuffix(got, line+"\nthe end\n") {
		t.Fatalf("%d bytes, %v", len(got), err)
	}
}

func TestCreateMessageFile(t *testing.T) {
	dir := t.TempDir()
	p := MessageFilePath(dir, "app", 3)
	if p != filepath.Join(dir, "containers", "app", "3.termination-log") {
		t.Fatalf("path %s", p)
	}
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	if err := CreateMessageFile(p); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o666 || st.Size() != 0 {
		t.Fatalf("%v %v", st.Mode(), err)
	}
	// A retry of the same instance (its create failed) starts afresh.
	if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := CreateMessageFile(p); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(p); err != nil || st.Size() != 0 || st.Mode().Perm() != 0o666 {
		t.Fatalf("after a retry: %v %v", st, err)
	}
	// A symlink in its place is replaced, not followed.
	link := MessageFilePath(dir, "app", 4)
	target := filepath.Join(dir, "elsewhere")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(target, []byte("host secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadMessageFile(link); err == nil {
		t.Fatal("read through a symlink")
	}
	if err := CreateMessageFile(link); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || !st.Mode().IsRegular() {
		t.Fatalf("the symlink was not replaced by a file: %v %v", st, err)
	}
	if b, _ := os.ReadFile(target); string(b) != "host secret" || mode(t, target) != 0o600 {
		t.Fatal("the symlink's target was touched")
	}
}

func TestTrimMessages(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Name: "i"}},
		Containers: []corev1.Container{{Name: "a"}, {Name: "b"}}}}
	long := strings.Repeat("m", 5000)
	term := func() *corev1.ContainerStateTerminated { return &corev1.ContainerStateTerminated{Message: long} }
	s := &corev1.PodStatus{
		InitContainerStatuses: []corev1.ContainerStatus{{Name: "i", State: corev1.ContainerState{Terminated: term()}}},
		ContainerStatuses: []corev1.ContainerStatus{
			{Name: "a", State: corev1.ContainerState{Terminated: term()}, LastTerminationState: corev1.ContainerState{Terminated: term()}},
			{Name: "b", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}},
		},
	}
	TrimMessages(pod, s)
	share := MaxPodMessageLength / 3
	for _, got := range []string{s.InitContainerStatuses[0].State.Terminated.Message, s.ContainerStatuses[0].State.Terminated.Message,
		s.ContainerStatuses[0].LastTerminationState.Terminated.Message} {
		if len(got) != share {
			t.Fatalf("%d bytes, want %d", len(got), share)
		}
	}
}

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}
