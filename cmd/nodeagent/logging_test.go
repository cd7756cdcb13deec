package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"k8s.io/klog/v2"
)

func TestSplitLogFlags(t *testing.T) {
	cases := []struct {
		args   []string
		rest   []string
		level  slog.Level
		format string
		err    string
	}{
		{[]string{"--port", "1"}, []string{"--port", "1"}, slog.LevelInfo, "text", ""},
		{[]string{"--log-level=debug", "--port", "1", "-log-format", "json"}, []string{"--port", "1"}, slog.LevelDebug, "json", ""},
		{[]string{"--log-level", "WARN"}, nil, slog.LevelWarn, "text", ""},
		{[]string{"exec", "x", "--", "sh", "--log-level=debug"}, []string{"exec", "x", "--", "sh", "--log-level=debug"}, slog.LevelInfo, "text", ""},
		{[]string{"--log-level=trace"}, nil, 0, "", "--log-level"},
		{[]string{"--log-format=yaml"}, nil, 0, "", "--log-format"},
		{[]string{"--log-level"}, nil, 0, "", "--log-level needs a value"},
	}
	for _, c := range cases {
		rest, opts, err := splitLogFlags(c.args)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v: error %v, want %q", c.args, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(rest, c.rest) || opts.level != c.level || opts.format != c.format {
			t.Errorf("%v: %v %+v %v", c.args, rest, opts, err)
		}
	}
}

// TestEveryCommandTakesTheLogFlags: the logging flags reach no command's
// own flags, and the logger follows them (before, the agent refused
// --log-level as an unknown flag).
func TestEveryCommandTakesTheLogFlags(t *testing.T) {
	env, out := testEnv()
	err := dispatch(context.Background(), env, []string{"agent", "--log-level=debug", "--log-format=json", "--node-name", "N_1"})
	if err == nil || !strings.Contains(err.Error(), "--node-name") {
		t.Fatalf("the agent's own flags were not parsed: %v", err)
	}
	out.Reset()
	env.log.Debug("hello", "k", "v")
	var rec map[string]any
	if err := json.Unmarshal(out.Bytes(), &rec); err != nil || rec["level"] != "DEBUG" || rec["msg"] != "hello" {
		t.Fatalf("the logger is not JSON at debug: %q (%v)", out.String(), err)
	}
	env.logLevel.Set(slog.LevelError) // the level can change while running
	out.Reset()
	env.log.Warn("quiet")
	if out.Len() != 0 {
		t.Fatalf("a warning at level error: %q", out.String())
	}
	if err := dispatch(context.Background(), env, []string{"version", "--log-level=loud"}); err == nil || !strings.Contains(err.Error(), "--log-level") {
		t.Fatalf("a bad level: %v", err)
	}
}

// TestKlogFollowsTheLogger: what the Kubernetes libraries log through klog
// reaches the command's logger in its format, and their V(1) chatter stays
// below info.
func TestKlogFollowsTheLogger(t *testing.T) {
	var buf bytes.Buffer
	level := new(slog.LevelVar)
	routeKlog(newLogger(&buf, "json", level))
	t.Cleanup(func() { klog.ClearLogger() })
	klog.ErrorS(nil, "socket receive failed", "conn", 7)
	klog.V(1).InfoS("chatter")
	klog.Flush()
	out := buf.String()
	if !strings.Contains(out, `"msg":"socket receive failed"`) || !strings.Contains(out, `"component":"klog"`) {
		t.Errorf("klog's error is not in the JSON log: %q", out)
	}
	if strings.Contains(out, "chatter") {
		t.Errorf("klog's V(1) record logged at info: %q", out)
	}
}
