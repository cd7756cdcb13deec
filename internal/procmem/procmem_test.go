package procmem

import (
	"os"
	"strings"
	"testing"
)

func TestParseSmapsRollup(t *testing.T) {
	in := `55d0-7ffe ---p 00000000 00:00 0    [rollup]
Rss:                1780 kB
Pss:                 272 kB
Pss_Anon:            112 kB
Pss_File:            160 kB
Shared_Clean:       1632 kB
Private_Clean:        36 kB
Private_Dirty:       112 kB
Anonymous:           112 kB
`
	got, err := parseSmapsRollup("rollup", in)
	want := Memory{RSS: 1780 << 10, PSS: 272 << 10, Private: 148 << 10, Anon: 112 << 10, PSSFile: 160 << 10}
	if err != nil || got != want {
		t.Errorf("parseSmapsRollup = %+v, %v; want %+v", got, err, want)
	}
	if _, err := parseSmapsRollup("rollup", "Rss: 1 kB\n"); err == nil {
		t.Error("missing fields: want an error")
	}
	if _, err := parseSmapsRollup("rollup", strings.Replace(in, "272", "2x", 1)); err == nil {
		t.Error("bad number: want an error")
	}
}

func TestReadMemoryOfThisProcess(t *testing.T) {
	m, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS < 1<<20 || m.PSS == 0 || m.PSS > m.RSS || m.Private > m.RSS {
		t.Errorf("memory of the test binary = %+v: want RSS >= 1 MiB, 0 < PSS <= RSS, Private <= RSS", m)
	}
	args, err := Cmdline(os.Getpid())
	if err != nil || len(args) == 0 || args[0] != os.Args[0] {
		t.Errorf("Cmdline = %q, %v; want to start with %q", args, err, os.Args[0])
	}
}
