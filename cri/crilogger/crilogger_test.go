package crilogger

import (
	"bytes"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/nodeagent/nodeagent/cri/crilog"
)

var logTime = time.Date(2026, 11, 22, 9, 0, 0, 123456789, time.UTC)

// TestCopyRecordsPartialAtRealSize streams a 40 KiB line one byte at a
// time: it must come out as P, P, F records of at most crilog.MaxLine bytes.
func TestCopyRecordsPartialAtRealSize(t *testing.T) {
	line := strings.Repeat("y", 40*1024)
	var out bytes.Buffer
	in := iotest.OneByteReader(strings.NewReader(line + "\nend"))
	if err := copyRecords(&out, "stdout", in, func() time.Time { return logTime }); err != nil {
		t.Fatal(err)
	}
	var tags, total []string
	for _, rec := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		f := strings.SplitN(rec, " ", 4)
		tags = append(tags, f[2])
		total = append(total, f[3])
		if len(f[3]) > crilog.MaxLine {
			t.Errorf("record of %d bytes, longer than %d", len(f[3]), crilog.MaxLine)
		}
	}
	if got := strings.Join(tags, ""); got != "PPFF" {
		t.Errorf("tags %s, want PPFF", got)
	}
	if got := strings.Join(total[:3], ""); got != line || total[3] != "end" {
		t.Errorf("records do not add up to the input")
	}
}

// The logger's one argument carries the log path and, when the log
// rotates, the rotation, for any path.
func TestLoggerArgRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		path string
		rot  crilog.Rotation
		arg  string
	}{
		{"/var/log/pods/ns_p_u/c/0.log", crilog.Rotation{}, "/var/log/pods/ns_p_u/c/0.log"},
		{"/var/log/pods/ns_p_u/c/0.log", crilog.Rotation{MaxSize: 10 << 20, MaxFiles: 5},
			"file:///var/log/pods/ns_p_u/c/0.log?max-files=5&max-size=10485760"},
		{"/tmp/a dir?x=1&y/0.log", crilog.Rotation{MaxSize: 1024, MaxFiles: 2}, ""},
	} {
		arg := Arg(tc.path, tc.rot)
		if tc.arg != "" && arg != tc.arg {
			t.Errorf("Arg(%q, %+v) = %q, want %q", tc.path, tc.rot, arg, tc.arg)
		}
		path, rot, err := ParseArg(arg)
		if err != nil || path != tc.path || rot != tc.rot {
			t.Errorf("ParseArg(%q) = %q, %+v, %v", arg, path, rot, err)
		}
	}
	for _, bad := range []string{"0.log", "file://host/x.log", "file:///x.log", "file:///x.log?max-size=10&max-files=1",
		"http:///x.log?max-size=10&max-files=2", "file:relative?max-size=1&max-files=2"} {
		if _, _, err := ParseArg(bad); err == nil {
			t.Errorf("ParseArg(%q) accepted", bad)
		}
	}
}
