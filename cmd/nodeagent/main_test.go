package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
)

func testEnv() (*environment, *bytes.Buffer) {
	var out bytes.Buffer
	return &environment{stdout: &out, stderr: &out, log: slog.New(slog.NewTextHandler(io.Discard, nil))}, &out
}

func TestDispatch(t *testing.T) {
	env, out := testEnv()
	if err := dispatch(context.Background(), env, []string{"version"}); err != nil || !strings.HasPrefix(out.String(), "nodeagent ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
	if err := dispatch(context.Background(), env, []string{"frobnicate"}); err == nil || !strings.Contains(err.Error(), `"frobnicate"`) {
		t.Fatalf("unknown command: %v", err)
	}
	out.Reset()
	if err := dispatch(context.Background(), env, nil); err != nil || !strings.Contains(out.String(), "lab") {
		t.Fatalf("usage: %v %q", err, out.String())
	}
}

func TestLabArgumentErrors(t *testing.T) {
	env, _ := testEnv()
	for _, args := range [][]string{{}, {"up"}, {"down"}, {"exec", "x"}, {"exec", "x", "ls"}, {"path", "Bad_Name"}, {"fly"}} {
		if err := runLab(context.Background(), env, args); err == nil {
			t.Errorf("lab %v: no error", args)
		}
	}
}
