package proc

import (
	"os"
	"testing"
	"time"
)

func TestParseCPUTime(t *testing.T) {
	// A command name with spaces and parentheses; utime 250, stime 130.
	stat := "4242 (node agent (x)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 130 0 0 20 0 12 0 100 1000000 2000 18446744073709551615"
	got, err := parseCPUTime("stat", stat)
	if err != nil || got != 3800*time.Millisecond {
		t.Fatalf("parseCPUTime = %s, %v; want 3.8s", got, err)
	}
	if _, err := parseCPUTime("stat", "4242 (short) S 1 2"); err == nil {
		t.Fatal("a short line was accepted")
	}
}

func TestCPUTimeOfThisProcess(t *testing.T) {
	before, err := CPUTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for x := 0; ; x++ { // burn CPU until the kernel's count moves
		after, err := CPUTime(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if after > before {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("CPU time stayed at %s while this test spun", before)
		}
	}
}
