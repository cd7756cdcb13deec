package crilog

import (
	"bytes"
	"strings"
	"testing"
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
			got, rest := AppendRecords(nil, logTime, tc.stream, []byte(tc.data), tc.max, tc.eof)
			if string(got) != tc.want || string(rest) != tc.rest {
				t.Errorf("AppendRecords(%q) =\n%q, rest %q\nwant\n%q, rest %q", tc.data, got, rest, tc.want, tc.rest)
			}
		})
	}
}

// A Writer keeps an incomplete line until the rest comes; Close writes it
// as a full record, Release as a partial one.
func TestWriterHoldsIncompleteLines(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out, Stdout, func() time.Time { return logTime })
	w.Write([]byte("one\ntw"))
	w.Write([]byte("o\nthr"))
	if want := ts + " stdout F one\n" + ts + " stdout F two\n"; out.String() != want {
		t.Fatalf("after two writes: %q, want %q", out.String(), want)
	}
	w.Release()
	w.Write([]byte("ee"))
	w.Close()
	if want := ts + " stdout P thr\n" + ts + " stdout F ee\n"; !strings.HasSuffix(out.String(), want) {
		t.Fatalf("after Release and Close: %q, want it to end in %q", out.String(), want)
	}
}
