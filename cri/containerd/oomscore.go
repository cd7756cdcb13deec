package containerd

import (
	"context"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// noOOMFloor: every oom_score_adj can be set.
const noOOMFloor = math.MinInt

// capSysResource is CAP_SYS_RESOURCE's bit: lowering a process's
// oom_score_adj needs it.
const capSysResource = 24

// oomScoreFloor is the least oom_score_adj a container can be given: none
// when this process may lower scores (and so, as it runs beside
// containerd, may runc); else the score a container inherits, which it
// cannot go below: its shim's, containerd's plus one (the shim's
// AdjustOOMScore), taken to be this process's plus one. This is
// containerd's restrict_oom_score_adj, for hosts (and sandboxes) without
// CAP_SYS_RESOURCE, where a -998 or -997 would fail every sandbox.
func oomScoreFloor(procSelf string) int {
	if hasCap(procSelf, capSysResource) {
		return noOOMFloor
	}
	b, err := os.ReadFile(procSelf + "/oom_score_adj")
	if err != nil {
		return 1
	}
	own, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 1
	}
	return min(own+1, 1000)
}

// hasCap says whether the process's effective capabilities (CapEff in
// its status) hold bit.
func hasCap(procSelf string, bit uint) bool {
	b, err := os.ReadFile(procSelf + "/status")
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && caps&(1<<bit) != 0
		}
	}
	return false
}

// withOOMScoreAdj sets the process's oom_score_adj; below floor it sets
// none (the process keeps the score it inherits, the least it can have).
func withOOMScoreAdj(adj, floor int) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if adj < floor {
			return nil
		}
		if s.Process == nil {
			s.Process = &specs.Process{}
		}
		s.Process.OOMScoreAdj = &adj
		return nil
	}
}
