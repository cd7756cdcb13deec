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
