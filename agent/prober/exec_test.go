package prober

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/cri"
)

func TestExecHandler(t *testing.T) {
	for _, tc := range []struct {
		name      string
		res       cri.ExecResult
		err       error
		want      outcome
		wantOut   string
		wantError bool
	}{
		{name: "exit 0", res: cri.ExecResult{Stdout: []byte("ok\n")}, want: outcomeSuccess, wantOut: "ok\n"},
		{name: "exit 1 with output", res: cri.ExecResult{Stdout: []byte("out "), Stderr: []byte("err"), ExitCode: 1},
			want: outcomeFailure, wantOut: "out err"},
		{name: "timeout", err: fmt.Errorf("exec: timed out after 2s: %w", context.DeadlineExceeded),
			want: outcomeFailure, wantOut: `command "cat /tmp/healthy" timed out`},
		{name: "runtime error", err: errors.New("exec in container c1: it is not running"), want: outcomeUnknown, wantError: true},
		{name: "output over 10 KiB", res: cri.ExecResult{Stdout: []byte(strings.Repeat("x", 20<<10)), ExitCode: 2},
			want: outcomeFailure, wantOut: strings.Repeat("x", 10<<10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex := &fakeExec{fn: func(string, []string) (cri.ExecResult, error) { return tc.res, tc.err }}
			p := execProbe("cat", "/tmp/healthy")
			p.TimeoutSeconds = 2
			c := corev1.Container{Name: "app"}
			out, msg, err := execHandler{exec: ex}.run(context.Background(), target{container: &c, containerID: "c1"}, p)
			if out != tc.want || msg != tc.wantOut || (err != nil) != tc.wantError {
				t.Fatalf("got %s, %q, %v; want %s, %q, error %v", out, msg, err, tc.want, tc.wantOut, tc.wantError)
			}
			want := execCall{id: "c1", cmd: []string{"cat", "/tmp/healthy"}, timeout: 2 * time.Second}
			if !reflect.DeepEqual(ex.calls, []execCall{want}) {
				t.Fatalf("calls %+v, want %+v", ex.calls, want)
			}
		})
	}
}

func TestExecHandlerExpandsStaticEnv(t *testing.T) {
	ex := &fakeExec{}
	c := corev1.Container{Name: "app", Env: []corev1.EnvVar{{Name: "FILE", Value: "/tmp/ready"}}}
	p := execProbe("test", "-f", "$(FILE)")
	if _, _, err := (execHandler{exec: ex}).run(context.Background(), target{container: &c, containerID: "c1"}, p); err != nil {
		t.Fatal(err)
	}
	if got := ex.calls[0].cmd; !reflect.DeepEqual(got, []string{"test", "-f", "/tmp/ready"}) {
		t.Fatalf("command %q", got)
	}
}
