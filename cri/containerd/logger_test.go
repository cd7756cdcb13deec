package containerd

import (
	"bytes"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

var logTime = time.Date(2026, 11, 22, 9, 0, 0, 123456789, time.UTC)

const ts = "2026-11-22T09:00:00.123456789Z"

func TestAppendRecords(t *testing.T) {
	long := strings.Repeat("x", 10)
	for _, tc := range []struct {
		name   string
		stream string
		data   string
		max    int
		eof    bool
		want   string
		rest   string
	}{
		{name: "full lines", stream: "stdout", data: "a\nbc\n", max: 16,
			want: ts + " stdout F a\n" + ts + " stdout F bc\n"},
		{name: "stderr", stream: "stderr", data: "oops\n", max: 16,
			want: ts + " stderr F oops\n"},
		{name: "empty line", stream: "stdout", data: "\n", max: 16,
			want: ts + " stdout F \n"},
		{name: "incomplete line waits", stream: "stdout", data: "a\nhalf", max: 16,
			want: ts + " stdout F a\n", rest: "half"},
		{name: "no trailing newline at EOF", stream: "stdout", data: "a\nlast", max: 16, eof: true,
			want: ts + " stdout F a\n" + ts + " stdout F last\n"},
		{name: "line of exactly max", stream: "stdout", data: long + "\n", max: 10,
			want: ts + " stdout F " + long + "\n"},
		{name: "long line is split", stream: "stdout", data: long + long + "abc\n", max: 10,
			want: ts + " stdout P " + long + "\n" + ts + " stdout P " + long + "\n" + ts + " stdout F abc\n"},
		{name: "long incomplete line", stream: "stderr", data: long + "abc", max: 10,
			want: ts + " stderr P " + long + "\n", rest: "abc"},
		{name: "max bytes without newline waits", stream: "stdout", data: long, max: 10, rest: long},
		{name: "nothing at EOF", stream: "stdout", data: "", max: 10, eof: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, rest := appendRecords(nil, logTime, tc.stream, []byte(tc.data), tc.max, tc.eof)
			if string(got) != tc.want || string(rest) != tc.rest {
				t.Errorf("appendRecords(%q) =\n%q, rest %q\nwant\n%q, rest %q", tc.data, got, rest, tc.want, tc.rest)
			}
		})
	}
}

// TestCopyRecordsPartialAtRealSize streams a 40 KiB line one byte at a
// time: it must come out as P, P, F records of at most MaxLogLine bytes.
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
		if len(f[3]) > MaxLogLine {
			t.Errorf("record of %d bytes, longer than %d", len(f[3]), MaxLogLine)
		}
	}
	if got := strings.Join(tags, ""); got != "PPFF" {
		t.Errorf("tags %s, want PPFF", got)
	}
	if got := strings.Join(total[:3], ""); got != line || total[3] != "end" {
		t.Errorf("records do not add up to the input")
	}
}
