package main

import (
	"context"
	"os"
	"strings"
	"testing"
)

// `nodeagent kubeconfig node` with a data dir that holds no CA refuses,
// and makes nothing there (it used to make a new CA no server trusts).
func TestKubeconfigNodeRefusesWithoutCA(t *testing.T) {
	env, out := testEnv()
	dir := t.TempDir()
	err := dispatch(context.Background(), env, []string{"kubeconfig", "node", "n1", "--data-dir", dir})
	if err == nil || !strings.Contains(err.Error(), "no cluster CA in "+dir+"/pki") {
		t.Fatalf("got %v, want a refusal naming the missing CA", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 || out.Len() != 0 {
		t.Fatalf("made %v and printed %q", entries, out.String())
	}
}
