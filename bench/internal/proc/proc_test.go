package proc

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestParseRSS(t *testing.T) {
	got, err := parseRSS("status", []byte("Name:\tx\nVmPeak:\t 900 kB\nVmRSS:\t    1234 kB\n"))
	if err != nil || got != 1234*1024 {
		t.Errorf("parseRSS = %d, %v; want %d", got, err, 1234*1024)
	}
	if _, err := parseRSS("status", []byte("Name:\tx\n")); err == nil {
		t.Error("no VmRSS line: want an error")
	}
	if _, err := parseRSS("status", []byte("VmRSS:\t12x kB\n")); err == nil {
		t.Error("bad number: want an error")
	}
}

func TestReadRSSOfThisProcess(t *testing.T) {
	rss, err := ReadRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if rss < 1<<20 {
		t.Errorf("RSS of the test binary = %d bytes, want at least 1 MiB", rss)
	}
}

func TestCPUModel(t *testing.T) {
	in := "processor\t: 0\nvendor_id\t: X\nmodel name\t: Some CPU @ 2GHz\nmodel name\t: other\n"
	if got := cpuModel(in); got != "Some CPU @ 2GHz" {
		t.Errorf("cpuModel = %q", got)
	}
	if got := cpuModel("processor: 0\n"); got != "" {
		t.Errorf("cpuModel without a model name = %q, want empty", got)
	}
}

func TestStopEndsAProcess(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep:", err)
	}
	p := Watch(cmd)
	if err := p.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Exited():
	default:
		t.Fatal("Exited not closed after Stop")
	}
	if err := p.Stop(time.Second); err != nil {
		t.Errorf("Stop of an exited process = %v, want nil", err)
	}
}

func TestStopKillsAfterTimeout(t *testing.T) {
	// read is a builtin: killing the shell leaves no child behind.
	cmd := exec.Command("sh", "-c", "trap '' TERM; echo up; read x")
	in, _ := cmd.StdinPipe()
	defer in.Close()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Skip("no sh:", err)
	}
	buf := make([]byte, 3)
	out.Read(buf) // the trap is set once it has printed
	p := Watch(cmd)
	err := p.Stop(200 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Stop = %v, want a killed error", err)
	}
}

func TestLogTail(t *testing.T) {
	path := t.TempDir() + "/log"
	os.WriteFile(path, []byte(strings.Repeat("a", 3000)+"END"), 0o600)
	got, err := LogTail(path)
	if err != nil || len(got) != 2000 || !strings.HasSuffix(got, "END") {
		t.Errorf("LogTail = %d bytes, %v; want the last 2000", len(got), err)
	}
	if _, err := LogTail(path + ".missing"); err == nil {
		t.Error("missing file: want an error")
	}
}
