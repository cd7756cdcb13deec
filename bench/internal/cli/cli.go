// Package cli is the command-line scaffolding the benchmarks share: a
// context that ends on Ctrl-C or SIGTERM, a bound on the whole run, and
// --quick defaults that give way to flags set explicitly.
package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Main runs body with a context cancelled on SIGINT or SIGTERM; on error it
// prints "name: err" to stderr and exits 1.
func Main(name string, body func(ctx context.Context, args []string) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := body(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// Timed runs measure within timeout and, if it succeeds, report with the
// time the run started.
func Timed[R any](ctx context.Context, timeout time.Duration, measure func(context.Context) (R, error), report func(R, time.Time)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	started := time.Now()
	r, err := measure(ctx)
	if err != nil {
		return err
	}
	report(r, started)
	return nil
}

// NewFlagSet is a flag set named name with the flags every bench has:
// --bin (the nodeagent binary, if bin is not nil, described by binUsage),
// --timeout (the bound on the whole run) and --quick, whose value it
// returns.
func NewFlagSet(name string, bin *string, binUsage string, timeout *time.Duration) (*flag.FlagSet, *bool) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if bin != nil {
		fs.StringVar(bin, "bin", *bin, binUsage)
	}
	fs.DurationVar(timeout, "timeout", *timeout, "bound on the whole run")
	return fs, fs.Bool("quick", false, "small numbers for a smoke run (explicit flags still win)")
}

// Quick applies --quick defaults to the flags of fs not set on the command
// line (fs must have been parsed).
type Quick struct{ set map[string]bool }

// NewQuick records which flags of fs were set.
func NewQuick(fs *flag.FlagSet) Quick {
	q := Quick{set: map[string]bool{}}
	fs.Visit(func(f *flag.Flag) { q.set[f.Name] = true })
	return q
}

// Pick sets *dst to v unless the flag name was set.
func Pick[T any](q Quick, name string, dst *T, v T) {
	if !q.set[name] {
		*dst = v
	}
}
