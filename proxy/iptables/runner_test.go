package iptables

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// recorder is an execFunc that records commands and answers from a table.
type recorder struct {
	calls []string
	stdin []string
	fail  map[string]error // argv prefix → error
}

func (r *recorder) run(_ context.Context, stdin []byte, argv ...string) ([]byte, error) {
	cmd := strings.Join(argv, " ")
	r.calls, r.stdin = append(r.calls, cmd), append(r.stdin, string(stdin))
	for prefix, err := range r.fail {
		if strings.HasPrefix(cmd, prefix) {
			return nil, err
		}
	}
	return []byte("out"), nil
}

func newRecorded(prefix ...string) (*ExecRunner, *recorder) {
	rec := &recorder{fail: map[string]error{}}
	r := NewRunner(prefix...)
	r.run = rec.run
	return r, rec
}

func TestRunnerCommands(t *testing.T) {
	r, rec := newRecorded("ip", "netns", "exec", "lab")
	ctx := context.Background()
	if err := r.Restore(ctx, []byte("*nat\nCOMMIT\n")); err != nil {
		t.Fatal(err)
	}
	if out, err := r.Save(ctx, "nat"); err != nil || string(out) != "out" {
		t.Fatalf("save: %q, %v", out, err)
	}
	want := []string{"ip netns exec lab iptables-restore --noflush --wait", "ip netns exec lab iptables-save -t nat"}
	if strings.Join(rec.calls, "\n") != strings.Join(want, "\n") || rec.stdin[0] != "*nat\nCOMMIT\n" {
		t.Errorf("calls %q (stdin %q), want %q", rec.calls, rec.stdin[0], want)
	}
}

func TestRunnerEnsureRuleChecksThenInserts(t *testing.T) {
	r, rec := newRecorded()
	rec.fail["iptables --wait -t nat -C"] = &exitError{code: 1, err: errors.New("exit status 1")}
	had, err := r.EnsureRule(context.Background(), "nat", "OUTPUT", "-j", "KUBE-SERVICES")
	if err != nil || had {
		t.Fatalf("had %v, err %v", had, err)
	}
	want := "iptables --wait -t nat -C OUTPUT -j KUBE-SERVICES\niptables --wait -t nat -I OUTPUT -j KUBE-SERVICES"
	if got := strings.Join(rec.calls, "\n"); got != want {
		t.Errorf("calls:\n%s\nwant:\n%s", got, want)
	}
}

func TestRunnerEnsureRuleOtherFailure(t *testing.T) {
	r, rec := newRecorded()
	rec.fail["iptables"] = &exitError{code: 2, err: errors.New("exit status 2"), stderr: "bad argument"}
	if _, err := r.EnsureRule(context.Background(), "nat", "OUTPUT", "-j", "X"); err == nil || !strings.Contains(err.Error(), "bad argument") {
		t.Errorf("err = %v, want the failure with its stderr", err)
	}
	if len(rec.calls) != 1 {
		t.Errorf("calls %q: want no insert after a failed check", rec.calls)
	}
}
