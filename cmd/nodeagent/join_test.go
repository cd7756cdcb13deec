package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestParseJoinArgs(t *testing.T) {
	o, err := parseJoinArgs([]string{"https://192.0.2.1:6443", "--token", "abcdef.0123456789abcdef", "--node-name", "n2",
		"--discovery-token-ca-cert-hash=sha256:00", "--credentials-dir", "/tmp/x", "--pod-cidr="})
	if err != nil {
		t.Fatal(err)
	}
	if o.server != "https://192.0.2.1:6443" || o.token != "abcdef.0123456789abcdef" || o.caHash != "sha256:00" || o.dir != "/tmp/x" ||
		!slices.Equal(o.agent, []string{"--node-name", "n2", "--pod-cidr="}) {
		t.Errorf("parsed %+v", o)
	}
	for args, want := range map[string]string{
		"":                         "usage: nodeagent join",
		"--token x":                "usage: nodeagent join",
		"https://s:6443 --token x": `--token "x": want a join token`,
		"https://s:6443 --token":   "--token needs a value",
		"https://s:6443 --token abcdef.0123456789abcdef": "--discovery-token-ca-cert-hash is required",
	} {
		if _, err := parseJoinArgs(strings.Fields(args)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", args, err, want)
		}
	}
}

func TestRandomTokenIsAJoinToken(t *testing.T) {
	re := regexp.MustCompile(`^[a-z0-9]{6}\.[a-z0-9]{16}$`)
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		tok, err := randomToken()
		if err != nil || !re.MatchString(tok) || seen[tok] {
			t.Fatalf("token %q %v (seen before: %v)", tok, err, seen[tok])
		}
		seen[tok] = true
	}
}
