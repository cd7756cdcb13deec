package lifecycle

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// logWindow bounds how much of a log LogTail reads from its end: with CRI
// records of at most 16 KiB of content plus a short prefix, the last 80
// records within 64 KiB always hold more than the 2 KiB a message keeps,
// so the answer is the one an unbounded read would give.
const logWindow = 64 << 10

// LogTail returns the content of the last lines records of a CRI-format
// log ("<time> <stream> <P|F> <content>", a full line's content followed
// by a newline, a partial one's not), stdout and stderr alike, keeping at
// most its last maxBytes bytes. It reads at most logWindow bytes.
func LogTail(path string, lines, maxBytes int) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	start := max(st.Size()-logWindow, 0)
	buf := make([]byte, st.Size()-start)
	if _, err := f.ReadAt(buf, start); err != nil && err != io.EOF {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	if start > 0 { // the first record is cut: skip it
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	var out []byte
	for _, rec := range lastRecords(buf, lines) {
		out = append(out, recordContent(rec)...)
	}
	if len(out) > maxBytes {
		out = out[len(out)-maxBytes:]
	}
	return string(out), nil
}

// lastRecords splits buf into its newline-terminated records (a last one
// without a newline counts too) and returns the last n.
func lastRecords(buf []byte, n int) [][]byte {
	recs := bytes.SplitAfter(buf, []byte("\n"))
	if len(recs) > 0 && len(recs[len(recs)-1]) == 0 {
		recs = recs[:len(recs)-1]
	}
	if len(recs) > n {
		recs = recs[len(recs)-n:]
	}
	return recs
}

// recordContent is a record's content: a full line's with its newline, a
// partial line's without; a record that is not CRI-framed is taken whole.
func recordContent(rec []byte) []byte {
	rec = bytes.TrimSuffix(rec, []byte("\n"))
	parts := bytes.SplitN(rec, []byte(" "), 4)
	if len(parts) < 4 {
		return append(rec, '\n')
	}
	if string(parts[2]) == "P" {
		return parts[3]
	}
	return append(parts[3], '\n')
}
