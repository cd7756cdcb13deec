package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nodeagent/nodeagent/bench/internal/proc"
	"github.com/nodeagent/nodeagent/bench/internal/stats"
	"github.com/nodeagent/nodeagent/internal/procmem"
)

// procGroup is what the processes of one kind (the pods' pause processes,
// their containers' log processes) cost together.
type procGroup struct {
	n   int
	mem procmem.Memory // summed
	cpu time.Duration  // summed CPU time so far: nearly all spent starting
	exe string         // the executable of the first one, and its size
}

func (g *procGroup) add(pid int) error {
	m, err := procmem.Read(pid)
	if err != nil {
		return err
	}
	cpu, err := proc.CPUTime(pid)
	if err != nil {
		return err
	}
	if g.n == 0 {
		g.exe = describeExe(pid)
	}
	g.n++
	g.mem, g.cpu = g.mem.Add(m), g.cpu+cpu
	return nil
}

// describeExe names a process's executable with its size: a pause
// process's path is the one inside its sandbox (/pause), whichever binary
// is mounted there.
func describeExe(pid int) string {
	exe := fmt.Sprintf("/proc/%d/exe", pid)
	path, _ := os.Readlink(exe)
	if fi, err := os.Stat(exe); err == nil {
		return fmt.Sprintf("%s, %.1f MB", path, float64(fi.Size())/1e6)
	}
	return path
}

// perPodProcs are the processes the node runs for its pods besides the
// containers and the shims, and the agent's own memory beside them.
type perPodProcs struct {
	pause, logger procGroup
	agent         procmem.Memory
}

// measurePerPodProcs reads every pause process in the node's cgroups and
// every log process writing under the bench's log directory. A process
// that exits while it is read is skipped.
func (b *benchNode) measurePerPodProcs() (perPodProcs, error) {
	var r perPodProcs
	pids, err := procmem.Pids()
	if err != nil {
		return r, err
	}
	logDir := filepath.Join(b.dir, "logs") + "/"
	for _, pid := range pids {
		args, err := procmem.Cmdline(pid)
		if err != nil || len(args) == 0 {
			continue
		}
		var g *procGroup
		switch {
		case args[0] == "/pause" && b.inNodeCgroup(pid):
			g = &r.pause
		case len(args) == 3 && args[1] == "cri-logger" && strings.HasPrefix(args[2], logDir):
			g = &r.logger
		default:
			continue
		}
		if err := g.add(pid); err != nil && !errors.Is(err, os.ErrNotExist) {
			return r, err
		}
	}
	r.agent, err = procmem.Read(b.agent.Cmd.Process.Pid)
	return r, err
}

// inNodeCgroup says whether pid is in a cgroup under the agent's node.
func (b *benchNode) inNodeCgroup(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	return err == nil && strings.Contains(string(data), ":/nodeagent/"+b.name+"/")
}

func reportPerPodProcs(w io.Writer, pods int, r perPodProcs) {
	for _, g := range []struct {
		label string
		g     procGroup
	}{{"pause process per pod", r.pause}, {"log process per container", r.logger}} {
		if g.g.n == 0 {
			fmt.Fprintf(w, "%-26s none found\n", g.label)
			continue
		}
		n := uint64(g.g.n)
		fmt.Fprintf(w, "%-26s private %s  PSS %s  RSS %s  CPU %s  (mean of %d, CPU %s for all: what they used so far, nearly all at start; %s)\n",
			g.label, kib(g.g.mem.Private/n), kib(g.g.mem.PSS/n), kib(g.g.mem.RSS/n),
			stats.WholeMs(g.g.cpu/time.Duration(g.g.n)), g.g.n, stats.WholeMs(g.g.cpu), g.g.exe)
	}
	total := r.pause.mem.Add(r.logger.mem)
	fmt.Fprintf(w, "%-26s PSS %s, private %s for %d pods\n", "  together", stats.MiB(total.PSS), stats.MiB(total.Private), pods)
	a := r.agent
	fmt.Fprintf(w, "%-26s RSS %s = anonymous %s + file %s; PSS %s (its share of the file pages: %s)\n",
		fmt.Sprintf("agent memory, %d pods", pods), stats.MiB(a.RSS), stats.MiB(a.Anon), stats.MiB(a.RSS-a.Anon),
		stats.MiB(a.PSS), stats.MiB(a.PSSFile))
}

// kib formats a byte count in KiB (per-process figures are small).
func kib(b uint64) string { return fmt.Sprintf("%d KiB", b>>10) }
