package main

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
)

// Every command takes --log-level=debug|info|warn|error (default info)
// and --log-format=text|json (default text), anywhere before a "--";
// dispatch takes them out of the command's arguments and builds the
// logger on a slog.LevelVar.

// logOptions are the logging flags' values.
type logOptions struct {
	level  slog.Level
	format string
}

// logLevels are the names --log-level takes.
var logLevels = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}

// splitLogFlags removes --log-level and --log-format (as --flag=value or
// --flag value, one dash or two) from args, up to a "--", and returns the
// rest and their values.
func splitLogFlags(args []string) ([]string, logOptions, error) {
	opts := logOptions{level: slog.LevelInfo, format: "text"}
	rest, taken, err := takeFlags(args, "log-level", "log-format")
	if err != nil {
		return nil, opts, err
	}
	for _, f := range taken {
		if err := opts.set(f.name, f.value); err != nil {
			return nil, opts, err
		}
	}
	return rest, opts, nil
}

// takenFlag is one flag taken out of a command line.
type takenFlag struct{ name, value string }

// takeFlags removes the named flags (as --flag=value or --flag value, one
// dash or two) from args, up to a "--", and returns the rest and the
// taken flags in their order.
func takeFlags(args []string, names ...string) ([]string, []takenFlag, error) {
	var rest []string
	var taken []takenFlag
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(rest, args[i:]...), taken, nil
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || !slices.Contains(names, name) {
			rest = append(rest, a)
			continue
		}
		if !hasValue {
			if i+1 == len(args) {
				return nil, nil, fmt.Errorf("--%s needs a value", name)
			}
			i++
			value = args[i]
		}
		taken = append(taken, takenFlag{name, value})
	}
	return rest, taken, nil
}

func (o *logOptions) set(name, value string) error {
	if name == "log-format" {
		if value != "text" && value != "json" {
			return fmt.Errorf("--log-format: %q is not text or json", value)
		}
		o.format = value
		return nil
	}
	l, ok := logLevels[strings.ToLower(value)]
	if !ok {
		return fmt.Errorf("--log-level: %q is not debug, info, warn or error", value)
	}
	o.level = l
	return nil
}

// newLogger writes records at level or above to w, as text or JSON.
func newLogger(w io.Writer, format string, level *slog.LevelVar) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// routeKlog sends what the Kubernetes libraries log through klog (client-go,
// the streaming servers) to the command's logger, so that --log-level and
// --log-format hold for them too; their chatty V(n) records are debug.
func routeKlog(log *slog.Logger) {
	klog.SetLogger(logr.FromSlogHandler(log.With("component", "klog").Handler()))
}
