package iptables

import (
	"context"
	"strings"
	"testing"
)

func restore(t *testing.T, f *Fake, input string) error {
	t.Helper()
	return f.Restore(context.Background(), []byte(input))
}

func TestFakeRejectsWhatIptablesRejects(t *testing.T) {
	for name, input := range map[string]string{
		"append to unknown chain":  "*nat\n-A NOPE -j ACCEPT\nCOMMIT\n",
		"jump to unknown chain":    "*nat\n:KUBE-A - [0:0]\n-A KUBE-A -j KUBE-B\nCOMMIT\n",
		"delete referenced chain":  "*nat\n:KUBE-A - [0:0]\n:KUBE-B - [0:0]\n-A KUBE-A -j KUBE-B\n-X KUBE-B\nCOMMIT\n",
		"delete built-in chain":    "*nat\n-X PREROUTING\nCOMMIT\n",
		"delete non-empty chain":   "*nat\n:KUBE-A - [0:0]\n-A KUBE-A -j RETURN\n-X KUBE-A\nCOMMIT\n",
		"delete missing rule":      "*nat\n-D PREROUTING -j RETURN\nCOMMIT\n",
		"DNAT in filter":           "*filter\n-A INPUT -j DNAT --to-destination 1.2.3.4:5\nCOMMIT\n",
		"REJECT in nat":            "*nat\n-A PREROUTING -j REJECT\nCOMMIT\n",
		"no COMMIT":                "*nat\n:KUBE-A - [0:0]\n",
		"unknown table":            "*nope\nCOMMIT\n",
		"unterminated quote":       "*nat\n-A PREROUTING -m comment --comment \"x -j RETURN\nCOMMIT\n",
		"chain name too long":      "*nat\n:KUBE-THIS-NAME-IS-FAR-TOO-LONG-X - [0:0]\nCOMMIT\n",
		"rule outside a table":     "-A PREROUTING -j RETURN\n",
		"create an existing chain": "*nat\n-N PREROUTING\nCOMMIT\n",
	} {
		f := NewFake()
		if err := restore(t, f, input); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if got := f.Chains("nat"); len(got) != 4 {
			t.Errorf("%s: nat changed to %v", name, got)
		}
	}
}

func TestFakeDeclarationFlushesAndCommitIsPerTable(t *testing.T) {
	f := NewFake()
	if err := restore(t, f, "*nat\n:KUBE-A - [0:0]\n-A KUBE-A -j RETURN\n-A PREROUTING -j KUBE-A\nCOMMIT\n"); err != nil {
		t.Fatal(err)
	}
	err := restore(t, f, "*nat\n:KUBE-A - [0:0]\n-A KUBE-A -s 1.2.3.4/32 -j RETURN\nCOMMIT\n*filter\n-A NOPE -j ACCEPT\nCOMMIT\n")
	if err == nil {
		t.Fatal("accepted a bad filter block")
	}
	if got := f.Rules("nat", "KUBE-A"); len(got) != 1 || got[0] != "-s 1.2.3.4/32 -j RETURN" {
		t.Errorf("KUBE-A = %q, want the nat block committed (flushed, one new rule)", got)
	}
	if err := restore(t, f, "*nat\n-D PREROUTING -j KUBE-A\n:KUBE-A - [0:0]\n-X KUBE-A\nCOMMIT\n"); err != nil {
		t.Fatalf("delete rule, flush and delete chain: %v", err)
	}
	if got := f.Chains("nat"); len(got) != 4 {
		t.Errorf("nat chains %v, want the built-ins only", got)
	}
}

func TestFakeInsertDeleteAndSave(t *testing.T) {
	f := NewFake()
	in := "*filter\n:KUBE-A - [0:0]\n-A INPUT -j KUBE-A\n-I INPUT -m comment --comment \"a b\" -j ACCEPT\n" +
		"-I INPUT 2 -j DROP\n-D INPUT 3\nCOMMIT\n"
	if err := restore(t, f, in); err != nil {
		t.Fatal(err)
	}
	out, err := f.Save(context.Background(), "filter")
	if err != nil {
		t.Fatal(err)
	}
	want := ":KUBE-A - [0:0]\n-A INPUT -m comment --comment \"a b\" -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n"
	if !strings.HasSuffix(string(out), want) {
		t.Errorf("save:\n%s\nwant it to end with:\n%s", out, want)
	}
	// What Save prints, Restore takes back (a round trip keeps the rules).
	g := NewFake()
	if err := restore(t, g, string(out)); err != nil {
		t.Fatalf("restore of save output: %v", err)
	}
	if again, _ := g.Save(context.Background(), "filter"); string(again) != string(out) {
		t.Errorf("round trip changed:\n%s\nto\n%s", out, again)
	}
}

func TestFakeEnsureRule(t *testing.T) {
	f := NewFake()
	ctx := context.Background()
	if _, err := f.EnsureRule(ctx, "nat", "PREROUTING", "-j", "KUBE-NOPE"); err == nil {
		t.Error("jump to a missing chain accepted")
	}
	for i, want := range []bool{false, true} {
		had, err := f.EnsureRule(ctx, "nat", "PREROUTING", "-m", "comment", "--comment", "x y", "-j", "RETURN")
		if err != nil || had != want {
			t.Errorf("call %d: had %v, err %v; want %v", i, had, err, want)
		}
	}
	if got := f.Rules("nat", "PREROUTING"); len(got) != 1 {
		t.Errorf("PREROUTING = %q", got)
	}
}
