package lifecycle

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// Termination message limits, as kubelet's.
const (
	// MaxMessageLength is how much of the terminationMessagePath file is
	// read: its last 4 KiB.
	MaxMessageLength = 4 << 10
	// MaxLogMessageLength is how much of the log a FallbackToLogsOnError
	// message takes: the last 2 KiB of its last MaxLogMessageLines lines.
	MaxLogMessageLength = 2 << 10
	MaxLogMessageLines  = 80
	// MaxPodMessageLength is what all of a pod's container statuses may
	// hold together; each gets an equal share (TrimMessages).
	MaxPodMessageLength = 12 << 10
)

// reasonCannotRun is the runtime's reason for a container that never ran
// (it has no logs to fall back to).
const reasonCannotRun = "ContainerCannotRun"

// Exited is what TerminationMessage needs of an exited container.
type Exited struct {
	ExitCode int32
	Reason   string // the runtime's, e.g. "Error", "OOMKilled"
	// MessageFile is the host file bind-mounted at terminationMessagePath
	// (MessageFilePath); "" when the container has none.
	MessageFile string
	// LogPath is the container's CRI-format log.
	LogPath string
}

// TerminationMessage is an exited container's state.terminated.message,
// as kubelet makes it: what the container wrote to terminationMessagePath
// (the file's last 4 KiB); with FallbackToLogsOnError, when the container
// failed and wrote nothing there, the end of its log instead (the last 80
// lines, at most 2 KiB). A file that cannot be read says so in the
// message.
func TerminationMessage(spec *corev1.Container, e Exited) string {
	fallback := spec.TerminationMessagePolicy == corev1.TerminationMessageFallbackToLogsOnError &&
		e.ExitCode != 0 && e.Reason != reasonCannotRun
	msg := ""
	if spec.TerminationMessagePath != "" && e.MessageFile != "" {
		var err error
		msg, err = ReadMessageFile(e.MessageFile)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Sprintf("Error on reading termination log %s: %v", e.MessageFile, err)
		}
	}
	if msg != "" || !fallback {
		return msg
	}
	tail, err := LogTail(e.LogPath, MaxLogMessageLines, MaxLogMessageLength)
	if err != nil {
		return fmt.Sprintf("Error on reading termination message from logs: %v", err)
	}
	return tail
}

// MessageFilePath is where the agent keeps the termination message file
// of one instance (attempt) of a container, under the pod's directory.
func MessageFilePath(podDir, container string, attempt int) string {
	return filepath.Join(podDir, "containers", container, fmt.Sprintf("%d.termination-log", attempt))
}

// CreateMessageFile creates the empty file that is bind-mounted at the
// container's terminationMessagePath: mode 0666, whatever the umask, so
// that a container running as any user can write its message (the
// directories above keep everyone else out). Whatever was at path (a file
// left by a failed try of the same instance, or anything else) is removed
// first, never followed: the agent writes through no symlink.
func CreateMessageFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	fd, err := createExcl(path)
	if errors.Is(err, unix.EEXIST) {
		if err := os.Remove(path); err != nil {
			return err
		}
		fd, err = createExcl(path)
	}
	if err != nil {
		return &fs.PathError{Op: "create", Path: path, Err: err}
	}
	defer unix.Close(fd)
	if err := unix.Fchmod(fd, 0o666); err != nil {
		return &fs.PathError{Op: "chmod", Path: path, Err: err}
	}
	return nil
}

func createExcl(path string) (int, error) {
	return unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o666)
}

// ReadMessageFile returns the last MaxMessageLength bytes of a
// termination message file. It follows no symlink, does not block on a
// FIFO, and reads only a regular file.
func ReadMessageFile(path string) (string, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", &fs.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > MaxMessageLength {
		if _, err := f.Seek(st.Size()-MaxMessageLength, io.SeekStart); err != nil {
			return "", err
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxMessageLength))
	return string(b), err
}

// TrimMessages cuts the termination messages of a pod's container statuses
// (state and last state, every kind of container) to an equal share of
// MaxPodMessageLength, as kubelet's status manager does.
func TrimMessages(pod *corev1.Pod, s *corev1.PodStatus) {
	share := MaxPodMessageLength
	if n := len(pod.Spec.Containers) + len(pod.Spec.InitContainers); n > 0 {
		share /= n
	}
	for _, list := range [][]corev1.ContainerStatus{s.InitContainerStatuses, s.ContainerStatuses, s.EphemeralContainerStatuses} {
		for i := range list {
			trim(list[i].State.Terminated, share)
			trim(list[i].LastTerminationState.Terminated, share)
		}
	}
}

func trim(t *corev1.ContainerStateTerminated, n int) {
	if t != nil && len(t.Message) > n {
		t.Message = t.Message[:n]
	}
}
