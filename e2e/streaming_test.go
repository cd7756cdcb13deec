//go:build linux && e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nodeagent/nodeagent/e2e/framework"
	"github.com/nodeagent/nodeagent/internal/syncbuf"
)

// streamPods are what the kubectl streaming tests use: srv serves TCP echo
// on 9000; ticker writes a numbered line five times a second.
const streamPods = `apiVersion: v1
kind: Pod
metadata: {name: srv}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: srv
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    args: [serve, --http, ":8080", --tcp-echo, ":9000", --udp-echo, ""]
---
apiVersion: v1
kind: Pod
metadata: {name: ticker}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: ticker
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    command: [sh, -c, "i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.2; done"]
---
apiVersion: v1
kind: Pod
metadata: {name: restarts}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: restarts
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    command: [sh, -c, "echo life; sleep 2; exit 1"]
`

// newestKubectl is the newest kubectl on these machines, tried beside
// kubectls when it is there.
const newestKubectl = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33"

// TestKubectlStreams drives exec, cp, attach, run -it, port-forward and
// logs with the real kubectl 1.32 (WebSocket, SPDY tunnelled for
// port-forward), 1.27 (SPDY) and 1.33 against `nodeagent server` in a lab
// node.
func TestKubectlStreams(t *testing.T) {
	l := startAgentLab(t)
	l.k.ok(streamPods, "apply", "-f", "-")
	for _, p := range []string{"srv", "ticker"} {
		l.waitFor(t, 90*time.Second, "pod/"+p, "{.status.phase}", "Running")
	}
	bins := kubectls
	if _, err := os.Stat(newestKubectl); err == nil {
		bins = append(bins[:len(bins):len(bins)], newestKubectl)
	}
	for i, bin := range bins {
		k := &kctl{t: t, srv: l.srv, bin: bin, kubeconfig: l.srv.Kubeconfig()}
		t.Run(filepath.Base(bin), func(t *testing.T) {
			k.t = t
			t.Run("exec", func(t *testing.T) { kubectlExec(t, k) })
			t.Run("cp", func(t *testing.T) { kubectlCp(t, k) })
			t.Run("attach", func(t *testing.T) { kubectlAttach(t, l, k) })
			t.Run("logs -f", func(t *testing.T) { kubectlLogsFollow(t, l, k) })
			t.Run("run -it --rm", func(t *testing.T) { kubectlRunIt(t, l, k, fmt.Sprint(i)) })
			t.Run("exec -it", func(t *testing.T) { l.ptySession(t, k, "exec", "-it", "srv", "--", "sh") })
			t.Run("port-forward", func(t *testing.T) { kubectlPortForward(t, l, k, 100<<20) })
		})
	}
	t.Run("protocols", func(t *testing.T) { kubectlProtocols(t, l) })
	t.Run("logs --previous", func(t *testing.T) { kubectlLogsPrevious(t, l) })
}

// exec with and without stdin; the command's exit code is kubectl's.
func kubectlExec(t *testing.T, k *kctl) {
	if out := k.ok("", "exec", "srv", "--", "echo", "hi"); out != "hi\n" {
		t.Errorf("exec echo hi: %q", out)
	}
	if out := k.ok("piped\n", "exec", "-i", "srv", "--", "sh", "-c", "cat; echo done"); out != "piped\ndone\n" {
		t.Errorf("exec -i with stdin: %q", out)
	}
	_, errOut, err := k.run("", "exec", "srv", "--", "sh", "-c", "echo oops >&2; exit 3")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 || !strings.Contains(errOut, "oops") {
		t.Errorf("exec exit 3: %v, stderr %q; want kubectl to exit 3", err, errOut)
	}
}

// kubectl cp both ways (exec with tar over stdin and stdout).
func kubectlCp(t *testing.T, k *kctl) {
	dir := t.TempDir()
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(rand.IntN(256))
	}
	in, back := filepath.Join(dir, "in.bin"), filepath.Join(dir, "back.bin")
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	k.ok("", "cp", in, "srv:/tmp/in.bin")
	sum := fmt.Sprintf("%x", sha256.Sum256(data))
	if out := k.ok("", "exec", "srv", "--", "sha256sum", "/tmp/in.bin"); !strings.HasPrefix(out, sum) {
		t.Fatalf("in the pod: %q, want %s", out, sum)
	}
	k.ok("", "cp", "srv:/tmp/in.bin", back)
	got, err := os.ReadFile(back)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("copied back: %d bytes, %v; want the %d sent", len(got), err, len(data))
	}
}

// background is a kubectl running in the lab node, its output collected.
type background struct {
	cmd      *exec.Cmd
	out, err *syncbuf.Buffer
	done     chan error
}

// start runs kubectl in the background; it is killed when the test ends.
func (l *agentLab) start(t *testing.T, k *kctl, args ...string) *background {
	t.Helper()
	b := &background{out: &syncbuf.Buffer{}, err: &syncbuf.Buffer{}, done: make(chan error, 1)}
	b.cmd = exec.Command(k.bin, append([]string{"--kubeconfig", k.kubeconfig}, args...)...)
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.err
	if err := l.node.Start(b.cmd); err != nil {
		t.Fatal(err)
	}
	go func() { b.done <- b.cmd.Wait() }()
	t.Cleanup(func() { b.stop() })
	return b
}

func (b *background) stop() {
	b.cmd.Process.Kill()
	<-b.done
	b.done <- nil // stop may be called again
}

// attach streams the output of a running container.
func kubectlAttach(t *testing.T, l *agentLab, k *kctl) {
	b := l.start(t, k, "attach", "ticker")
	first := waitTick(t, b.out, 0)
	waitTick(t, b.out, first+2)
	b.stop()
}

var tickLine = regexp.MustCompile(`tick (\d+)\n`)

// waitTick waits until out has a tick numbered above after, and returns
// the highest it has.
func waitTick(t *testing.T, out *syncbuf.Buffer, after int) int {
	t.Helper()
	var last int
	framework.Eventually(t, 30*time.Second, 50*time.Millisecond, fmt.Sprintf("a tick after %d", after), func() error {
		for _, m := range tickLine.FindAllStringSubmatch(out.String(), -1) {
			last, _ = strconv.Atoi(m[1])
		}
		if last <= after {
			return fmt.Errorf("last tick %d in %q", last, tail(out.String(), 200))
		}
		return nil
	})
	return last
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// logs -f sees the lines written after it started.
func kubectlLogsFollow(t *testing.T, l *agentLab, k *kctl) {
	b := l.start(t, k, "logs", "-f", "--tail", "1", "ticker")
	first := waitTick(t, b.out, 0)
	waitTick(t, b.out, first+3)
	if n := strings.Count(b.out.String(), "\n"); n > 30 {
		t.Errorf("--tail 1 -f printed %d lines so soon", n)
	}
	b.stop()
}

// logs --previous shows the log of the container before its restart.
func kubectlLogsPrevious(t *testing.T, l *agentLab) {
	l.waitFor(t, 90*time.Second, "pod/restarts", "{.status.containerStatuses[0].lastState.terminated.exitCode}", "1")
	for _, bin := range kubectls {
		k := &kctl{t: t, srv: l.srv, bin: bin, kubeconfig: l.srv.Kubeconfig()}
		if out := k.ok("", "logs", "restarts", "--previous"); out != "life\n" {
			t.Errorf("%s logs --previous: %q", filepath.Base(bin), out)
		}
	}
}

// run -it --rm: an interactive shell on a terminal, then the pod is
// removed.
func kubectlRunIt(t *testing.T, l *agentLab, k *kctl, suffix string) {
	name := "it-" + suffix
	l.ptySession(t, k, "run", name, "-it", "--rm", "--restart=Never",
		"--image=127.0.0.1:5000/nodeagent/testserver:v1", "--command", "--", "sh")
	if _, errOut, err := k.run("", "get", "pod", name); err == nil || !strings.Contains(errOut, "NotFound") {
		t.Errorf("pod %s after run --rm: %v %s", name, err, errOut)
	}
}

// ptySession runs kubectl with a pseudo-terminal of 40x100 as its stdin
// and output, and checks that the shell it reaches answers, runs on a
// terminal of that size, and ends kubectl when it exits.
func (l *agentLab) ptySession(t *testing.T, k *kctl, args ...string) {
	t.Helper()
	master, slave, err := openPTY(40, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	cmd := exec.Command(k.bin, append([]string{"--kubeconfig", k.kubeconfig}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := l.node.Start(cmd); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	out := &syncbuf.Buffer{}
	go io.Copy(out, master)
	defer func() {
		cmd.Process.Kill()
		<-done
	}()
	framework.Eventually(t, 90*time.Second, 300*time.Millisecond, "the shell's answer", func() error {
		master.Write([]byte("echo ans-$((6*7))\n"))
		if !strings.Contains(out.String(), "ans-42") {
			return fmt.Errorf("output %q", tail(out.String(), 300))
		}
		return nil
	})
	master.Write([]byte("stty size; tty\n"))
	framework.Eventually(t, 20*time.Second, 100*time.Millisecond, "the terminal", func() error {
		if s := out.String(); !strings.Contains(s, "40 100") || !strings.Contains(s, "/dev/pts/") {
			return fmt.Errorf("output %q", tail(s, 300))
		}
		return nil
	})
	master.Write([]byte("exit\n"))
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("kubectl %s did not end after exit:\n%s", strings.Join(args, " "), out.String())
	}
}

// openPTY opens a pseudo-terminal of rows x cols: its master and slave.
func openPTY(rows, cols uint16) (*os.File, *os.File, error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	fd := int(m.Fd())
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err == nil {
		err = unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0)
	}
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err == nil {
		err = unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
	}
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	return m, s, nil
}

// port-forward inside the lab node: a client there dials the local port
// kubectl listens on and sends size bytes through to the pod's echo
// server; they come back intact.
func kubectlPortForward(t *testing.T, l *agentLab, k *kctl, size int) {
	port := 20000 + rand.IntN(20000)
	b := l.start(t, k, "port-forward", "pod/srv", fmt.Sprintf("%d:9000", port))
	framework.Eventually(t, 30*time.Second, 100*time.Millisecond, "kubectl forwarding", func() error {
		if !strings.Contains(b.out.String(), "Forwarding from 127.0.0.1:"+strconv.Itoa(port)) {
			return fmt.Errorf("stdout %q stderr %q", b.out.String(), b.err.String())
		}
		return nil
	})
	start := time.Now()
	sent, got := echoThrough(t, l, port, size)
	if sent != got {
		t.Fatalf("%d bytes through port-forward: sent sha256 %s, got %s", size, sent, got)
	}
	t.Logf("%d MiB echoed through kubectl port-forward in %v", size>>20, time.Since(start).Round(time.Millisecond))
	b.stop()
}

// echoThrough sends size pseudo-random bytes to 127.0.0.1:port in the lab
// node, reads the echo, and returns the sha256 of both.
func echoThrough(t *testing.T, l *agentLab, port, size int) (string, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	conn, err := l.node.DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(3 * time.Minute))
	sentSum := make(chan string, 1)
	go func() {
		h := sha256.New()
		src := io.TeeReader(io.LimitReader(rand.NewChaCha8([32]byte{1}), int64(size)), h)
		io.Copy(conn, src)
		conn.(interface{ CloseWrite() error }).CloseWrite()
		sentSum <- fmt.Sprintf("%x", h.Sum(nil))
	}()
	h := sha256.New()
	n, err := io.Copy(h, bufio.NewReaderSize(conn, 1<<20))
	if err != nil || n != int64(size) {
		t.Fatalf("read back %d of %d bytes: %v", n, size, err)
	}
	return <-sentSum, fmt.Sprintf("%x", h.Sum(nil))
}

// kubectl 1.32 speaks WebSocket: v5.channel.k8s.io for exec and SPDY
// tunnelled in WebSocket for port-forward, without falling back to SPDY.
func kubectlProtocols(t *testing.T, l *agentLab) {
	k := &kctl{t: t, srv: l.srv, bin: kubectls[0], kubeconfig: l.srv.Kubeconfig()}
	_, errOut, err := k.run("", "-v=4", "exec", "srv", "--", "true")
	if err != nil || !strings.Contains(errOut, "v5.channel.k8s.io") || strings.Contains(errOut, "allback") {
		t.Errorf("kubectl exec -v=4: %v\n%s", err, errOut)
	}
	port := 20000 + rand.IntN(20000)
	b := l.start(t, k, "-v=4", "port-forward", "pod/srv", fmt.Sprintf("%d:9000", port))
	framework.Eventually(t, 30*time.Second, 100*time.Millisecond, "kubectl forwarding", func() error {
		if !strings.Contains(b.out.String(), "Forwarding from") {
			return fmt.Errorf("stdout %q", b.out.String())
		}
		return nil
	})
	echoThrough(t, l, port, 1<<10) // a connection makes kubectl dial
	b.stop()
	if e := b.err.String(); !strings.Contains(e, "tunneling_dialer") || !strings.Contains(e, "protocol: portforward.k8s.io") ||
		strings.Contains(e, "allback") {
		t.Errorf("kubectl port-forward -v=4 did not tunnel over WebSocket:\n%s", e)
	}
}

const ttyPod = `apiVersion: v1
kind: Pod
metadata: {name: tty}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: tty
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    command: [sh]
    stdin: true
    tty: true
`

// TestTTYContainerAcrossAgentKill9: a container created with stdin and a
// TTY (whose output passes through the agent) keeps running, keeps its
// stdin open and keeps logging when the agent is killed with SIGKILL; the
// restarted agent takes its stdio over, and kubectl attaches to it again.
func TestTTYContainerAcrossAgentKill9(t *testing.T) {
	requireAgentDeps(t)
	node := framework.NewLab(t)
	dirs := framework.NewNodeDirs(t, node, nodeName)
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	l := &agentLab{node: node, srv: srv, dirs: dirs, k: &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}}
	args := append(append([]string{"agent"}, agentCredentials(t, srv, nodeName)...), dirs.AgentArgs(nodeName)...)
	agent := framework.StartProcess(t, node, "agent", args...)
	l.k.ok(ttyPod, "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/tty", "{.status.phase}", "Running")
	l.typeInto(t, "echo one-$((1+1))", "one-2")

	agent.Kill9()
	agent.Start()
	l.typeInto(t, "echo two-$((2+2))", "two-4")
	if n := l.jsonpath("pod/tty", "{.status.containerStatuses[0].restartCount}"); n != "0" {
		t.Errorf("restartCount %s after the agent restart, want 0", n)
	}
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "both answers in the log", func() error {
		out, _, err := l.k.run("", "logs", "tty")
		if err != nil || !strings.Contains(out, "one-2") || !strings.Contains(out, "two-4") {
			return fmt.Errorf("%q %v", out, err)
		}
		return nil
	})
}

// typeInto attaches to pod tty with `kubectl attach -i`, types line (again
// until the answer comes: the agent may still be starting) and detaches.
func (l *agentLab) typeInto(t *testing.T, line, want string) {
	t.Helper()
	framework.Eventually(t, 60*time.Second, time.Second, "attach and see "+want, func() error {
		inR, inW, err := os.Pipe()
		if err != nil {
			return err
		}
		defer inW.Close()
		out := &syncbuf.Buffer{}
		cmd := exec.Command(l.k.bin, "--kubeconfig", l.k.kubeconfig, "attach", "-i", "tty")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, out, out
		if err := l.node.Start(cmd); err != nil {
			inR.Close()
			return err
		}
		inR.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		defer func() {
			cmd.Process.Kill()
			<-done
		}()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
			inW.Write([]byte(line + "\n"))
			select {
			case err := <-done:
				done <- err
				return fmt.Errorf("kubectl attach ended: %v: %s", err, out.String())
			case <-time.After(300 * time.Millisecond):
			}
			if strings.Contains(out.String(), want) {
				inW.Close()
				return waitExit(done, out)
			}
		}
		return fmt.Errorf("no %q in %q", want, out.String())
	})
}

// waitExit waits for kubectl to end once its stdin is closed.
func waitExit(done chan error, out *syncbuf.Buffer) error {
	select {
	case err := <-done:
		done <- err
		if err != nil {
			return fmt.Errorf("kubectl attach: %v: %s", err, out.String())
		}
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("kubectl attach did not end after its stdin did: %s", out.String())
	}
}
