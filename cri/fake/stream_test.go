package fake_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/conformance"
	"github.com/nodeagent/nodeagent/cri/fake"
)

// playStreams plays the processes of the suite's stream cases.
func playStreams(f *fake.Fake, id string, b conformance.Behaviour) error {
	switch b.Kind {
	case conformance.Echo:
		c, err := f.ContainerStatus(context.Background(), id)
		if err != nil {
			return err
		}
		return f.ServePort(c.SandboxID, int32(b.Port), func(conn fake.Conn) {
			io.Copy(conn, conn)
			conn.CloseWrite()
		})
	case conformance.Ticker:
		go tick(f, id)
		return nil
	}
	stdin, stdout, _, err := f.Stdio(id)
	if err != nil {
		return err
	}
	if b.Kind == conformance.Cat {
		go func() {
			io.Copy(stdout, stdin)
			io.WriteString(stdout, "bye\n")
			f.ExitContainer(id, 0, "")
		}()
		return nil
	}
	go interactiveShell(f, id, stdin, stdout)
	return nil
}

// tick writes a log line every few milliseconds while the container runs,
// as `while :; do echo tick; sleep 0.1; done` would.
func tick(f *fake.Fake, id string) {
	for {
		c, err := f.ContainerStatus(context.Background(), id)
		if err != nil || c.State != cri.ContainerRunning {
			return
		}
		f.WriteLog(id, "stdout", "tick")
		time.Sleep(5 * time.Millisecond)
	}
}

// interactiveShell answers the lines the suite types into a shell.
func interactiveShell(f *fake.Fake, id string, stdin io.Reader, stdout io.Writer) {
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "exit":
			f.ExitContainer(id, 0, "")
			return
		case line == "stty size":
			sz, _ := f.TermSize(id)
			fmt.Fprintf(stdout, "%d %d\r\n", sz.Height, sz.Width)
		default:
			fmt.Fprintf(stdout, "%s\r\n", evalEcho(line))
		}
	}
}

// evalEcho answers `echo <word>-$((a+b))` and `echo $((a*b))`.
func evalEcho(line string) string {
	word, ok := strings.CutPrefix(line, "echo ")
	if !ok {
		return "sh: not found"
	}
	prefix, expr, _ := strings.Cut(word, "$((")
	expr = strings.TrimSuffix(expr, "))")
	var a, b int
	if _, err := fmt.Sscanf(expr, "%d*%d", &a, &b); err == nil {
		return prefix + fmt.Sprint(a*b)
	}
	fmt.Sscanf(expr, "%d+%d", &a, &b)
	return prefix + fmt.Sprint(a+b)
}

// streamShell plays the commands the suite runs with Exec.
func streamShell(f *fake.Fake, id string, cmd []string, s cri.Streams) (int32, error) {
	script := strings.Join(cmd, " ")
	switch script {
	case "sh -c cat; echo done >&2; exit 3":
		copyStdin(s)
		io.WriteString(s.Stderr, "done\n")
		return 3, nil
	case "sh -c cat; echo none":
		copyStdin(s)
		io.WriteString(s.Stdout, "none\n")
		return 0, nil
	case "sh -c tty; while read x; do stty size; done":
		return ttyLoop(s)
	}
	res, err := shell(f, id, cmd)
	if s.Stdout != nil {
		s.Stdout.Write(res.Stdout)
	}
	if s.Stderr != nil {
		s.Stderr.Write(res.Stderr)
	}
	return res.ExitCode, err
}

func copyStdin(s cri.Streams) {
	if s.Stdin != nil {
		io.Copy(s.Stdout, s.Stdin)
	}
}

// ttyLoop prints the terminal's name, then its size for every line read.
func ttyLoop(s cri.Streams) (int32, error) {
	if !s.TTY {
		io.WriteString(s.Stdout, "not a tty\n")
		return 1, nil
	}
	io.WriteString(s.Stdout, "/dev/pts/0\r\n")
	var size cri.TermSize
	sc := bufio.NewScanner(s.Stdin)
	for sc.Scan() {
		for drained := false; !drained; {
			select {
			case size = <-s.Resize:
			default:
				drained = true
			}
		}
		fmt.Fprintf(s.Stdout, "%d %d\r\n", size.Height, size.Width)
	}
	return 0, nil
}
