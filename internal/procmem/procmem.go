// Package procmem reads what a process costs in memory from
// /proc/<pid>/smaps_rollup, and finds processes by their arguments: the
// agent bench and the e2e tests weigh the node's per-pod processes with it.
package procmem

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Memory is a process's memory as /proc/<pid>/smaps_rollup counts it, in
// bytes. RSS counts every resident page the process maps, also pages it
// shares (a binary's text mapped by several processes is in each one's
// RSS); PSS divides each shared page among the processes that map it, so
// the PSS of all processes adds up to the memory they use; Private is the
// pages no other process maps: what the process's exit would free.
type Memory struct {
	RSS     uint64
	PSS     uint64
	Private uint64 // Private_Clean + Private_Dirty
	Anon    uint64 // Anonymous: heap, stacks, the Go runtime's arenas
	PSSFile uint64 // Pss_File: the process's share of file pages (its binary)
}

// Add sums two readings.
func (m Memory) Add(o Memory) Memory {
	return Memory{RSS: m.RSS + o.RSS, PSS: m.PSS + o.PSS, Private: m.Private + o.Private,
		Anon: m.Anon + o.Anon, PSSFile: m.PSSFile + o.PSSFile}
}

// Read reads /proc/<pid>/smaps_rollup.
func Read(pid int) (Memory, error) {
	path := fmt.Sprintf("/proc/%d/smaps_rollup", pid)
	data, err := os.ReadFile(path)
	if err != nil {
		return Memory{}, fmt.Errorf("read %s: %w", path, err)
	}
	return parseSmapsRollup(path, string(data))
}

// parseSmapsRollup reads the "Key: N kB" lines of an smaps_rollup.
func parseSmapsRollup(path, data string) (Memory, error) {
	var m Memory
	fields := map[string]*uint64{"Rss": &m.RSS, "Pss": &m.PSS, "Anonymous": &m.Anon, "Pss_File": &m.PSSFile}
	var clean, dirty uint64
	fields["Private_Clean"], fields["Private_Dirty"] = &clean, &dirty
	seen := 0
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[2] != "kB" {
			continue
		}
		dst, ok := fields[strings.TrimSuffix(f[0], ":")]
		if !ok {
			continue
		}
		kb, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return Memory{}, fmt.Errorf("%s: %s %q: %w", path, f[0], f[1], err)
		}
		*dst = kb * 1024
		seen++
	}
	if seen < len(fields) {
		return Memory{}, fmt.Errorf("%s: %d of the %d fields read (Rss, Pss, Private_*, Anonymous, Pss_File)", path, seen, len(fields))
	}
	m.Private = clean + dirty
	return m, nil
}

// Cmdline is the process's arguments, from /proc/<pid>/cmdline.
func Cmdline(pid int) ([]string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00"), nil
}

// Pids lists the processes running now.
func Pids() ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && e.IsDir() {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}
