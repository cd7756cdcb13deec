package crilog

import (
	"bytes"
	"fmt"
	"time"
)

// Record is one parsed line of a CRI log.
type Record struct {
	Time    time.Time
	Stream  string // Stdout or Stderr
	Partial bool   // a "P" record: the line goes on in the next one
	Content []byte // without the newline
}

// ParseRecord parses one line (with or without its newline). Content
// aliases line.
func ParseRecord(line []byte) (Record, error) {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	ts, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return Record{}, fmt.Errorf("log record %.40q: no time", line)
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return Record{}, fmt.Errorf("log record %.40q: %w", line, err)
	}
	stream, rest, ok := bytes.Cut(rest, []byte{' '})
	if !ok || (string(stream) != Stdout && string(stream) != Stderr) {
		return Record{}, fmt.Errorf("log record %.40q: no stream", line)
	}
	if len(rest) == 0 || (rest[0] != 'F' && rest[0] != 'P') || (len(rest) > 1 && rest[1] != ' ') {
		return Record{}, fmt.Errorf("log record %.40q: no F or P tag", line)
	}
	partial, content := rest[0] == 'P', rest[min(2, len(rest)):]
	return Record{Time: t, Stream: string(stream), Partial: partial, Content: content}, nil
}
