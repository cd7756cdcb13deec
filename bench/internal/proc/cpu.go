package proc

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc/<pid>/stat: USER_HZ, 100
// on every Linux architecture Go runs on (sysconf(_SC_CLK_TCK)).
const userHZ = 100

// CPUTime is the CPU time (user and system) the process has used, from
// /proc/<pid>/stat.
func CPUTime(pid int) (time.Duration, error) {
	path := fmt.Sprintf("/proc/%d/stat", pid)
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	return parseCPUTime(path, string(data))
}

// parseCPUTime adds utime and stime (fields 14 and 15) of a
// /proc/<pid>/stat line; the command name (field 2, in parentheses) may
// hold spaces, so fields are counted after its closing parenthesis.
func parseCPUTime(path, stat string) (time.Duration, error) {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("%s: no command name", path)
	}
	f := strings.Fields(stat[end+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("%s: %d fields after the command name, want at least 13", path, len(f))
	}
	var ticks uint64
	for _, s := range f[11:13] { // utime, stime: fields 14 and 15 of the line
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: CPU time %q: %w", path, s, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// CPUTime is the process's CPU time so far (CPUTime of its pid).
func (p *Process) CPUTime() (time.Duration, error) { return CPUTime(p.Cmd.Process.Pid) }
