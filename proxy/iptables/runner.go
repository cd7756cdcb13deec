package iptables

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
)

// Runner is the kernel edge: the iptables binaries.
type Runner interface {
	// Restore runs one `iptables-restore --noflush --wait` with input
	// (every table of one sync in one input).
	Restore(ctx context.Context, input []byte) error
	// Save returns `iptables-save -t table` (cleanup only, never on the
	// hot path).
	Save(ctx context.Context, table string) ([]byte, error)
	// EnsureRule inserts rule at the top of table's chain unless it is
	// there (`iptables -C`, then `-I`); it says whether it was there.
	EnsureRule(ctx context.Context, table, chain string, rule ...string) (bool, error)
	// ListChains lists table's chains and ListRules one chain's rule
	// specs (after "-A CHAIN "), neither translating the whole table
	// (cleanup only: at 10,000 Services iptables-save takes 14 s).
	ListChains(ctx context.Context, table string) ([]string, error)
	ListRules(ctx context.Context, table, chain string) ([]string, error)
	// DeleteChains flushes and deletes chains of table in one
	// transaction; nothing outside them may jump into them.
	DeleteChains(ctx context.Context, table string, chains []string) error
}

var _ Runner = (*ExecRunner)(nil)

// ExecRunner runs the real binaries, each behind an optional command
// prefix such as `ip netns exec NAME`.
type ExecRunner struct {
	prefix []string
	run    execFunc

	// viaNFT says iptables is nf_tables-backed and nft is there, so that
	// ListChains and DeleteChains go through nft (runner_list.go); asked
	// once.
	once   sync.Once
	viaNFT bool
}

// execFunc runs argv with stdin and returns its stdout; a non-zero exit is
// an error that has ExitCode() and carries stderr.
type execFunc func(ctx context.Context, stdin []byte, argv ...string) ([]byte, error)

// NewRunner returns a runner that runs every command behind prefix (none:
// run them directly, as the daemon does inside its own netns).
func NewRunner(prefix ...string) *ExecRunner {
	return &ExecRunner{prefix: prefix, run: osExec}
}

// Restore implements Runner.
func (r *ExecRunner) Restore(ctx context.Context, input []byte) error {
	_, err := r.exec(ctx, input, "iptables-restore", "--noflush", "--wait")
	return err
}

// Save implements Runner.
func (r *ExecRunner) Save(ctx context.Context, table string) ([]byte, error) {
	return r.exec(ctx, nil, "iptables-save", "-t", table)
}

// EnsureRule implements Runner.
func (r *ExecRunner) EnsureRule(ctx context.Context, table, chain string, rule ...string) (bool, error) {
	args := append([]string{"iptables", "--wait", "-t", table, "-C", chain}, rule...)
	_, err := r.exec(ctx, nil, args...)
	var coder interface{ ExitCode() int }
	switch {
	case err == nil:
		return true, nil
	case !errors.As(err, &coder) || coder.ExitCode() != 1:
		return false, err
	}
	args[4] = "-I"
	_, err = r.exec(ctx, nil, args...)
	return false, err
}

func (r *ExecRunner) exec(ctx context.Context, stdin []byte, argv ...string) ([]byte, error) {
	full := append(append([]string{}, r.prefix...), argv...)
	out, err := r.run(ctx, stdin, full...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", argv[0], err)
	}
	return out, nil
}

// exitError is a failed command: its exit code and stderr.
type exitError struct {
	code   int
	stderr string
	err    error
}

func (e *exitError) Error() string {
	return fmt.Sprintf("%v: %s", e.err, strings.TrimSpace(e.stderr))
}
func (e *exitError) ExitCode() int { return e.code }
func (e *exitError) Unwrap() error { return e.err }

func osExec(ctx context.Context, stdin []byte, argv ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return nil, &exitError{code: ee.ExitCode(), stderr: stderr.String(), err: err}
	}
	return out.Bytes(), err
}
