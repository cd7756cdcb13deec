//go:build linux && e2e && soak

package e2e

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// The soak (make soak, SOAK_DURATION, default 1h): a node with kubelet's
// defaults (10Mi × 5 log files, container GC every minute) runs a
// crash-looping pod and a log spammer (about 1 MB/s) for the duration.
// Every minute it weighs the pods' logs and the agent's state and counts
// the crash-looper's dead containers; the footprint must stay bounded.

const soakPods = `apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: %[1]s
    command: [sh, -c, "echo attempt; exit 1"]
---
apiVersion: v1
kind: Pod
metadata: {name: spam}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: %[1]s
    command:
    - sh
    - -c
    - |
      pad=$(head -c 1000 /dev/zero | tr '\0' x)
      while true; do yes "$pad" | head -n 1000; sleep 1; done
`

// soakSample is one minute's weighing.
type soakSample struct {
	at                  time.Duration
	spamLogs, crashLogs int64
	agentRoot           int64
	crashDead           int
	restarts            string
}

func TestSoakBoundedFootprint(t *testing.T) {
	d := 60 * time.Minute
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatalf("SOAK_DURATION: %v", err)
		}
	}
	l := startAgentLab(t)
	ctr := containerdIn(t, l.dirs.Namespace)
	l.k.ok(fmt.Sprintf(soakPods, framework.TestImage()), "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/spam", "{.status.phase}", "Running")
	crashUID, spamUID := l.jsonpath("pod/crash", "{.metadata.uid}"), l.jsonpath("pod/spam", "{.metadata.uid}")
	start := time.Now()
	var samples []soakSample
	t.Logf("%8s %12s %12s %12s %5s %8s", "at", "spam logs", "crash logs", "agent root", "dead", "restarts")
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for ; time.Since(start) < d; <-tick.C {
		dead, _ := ctr.podContainers(t, crashUID)
		s := soakSample{at: time.Since(start).Round(time.Second), crashDead: dead,
			spamLogs:  duBytes(filepath.Join(l.dirs.Logs, "default_spam_"+spamUID)),
			crashLogs: duBytes(filepath.Join(l.dirs.Logs, "default_crash_"+crashUID)),
			agentRoot: duBytes(l.dirs.Root),
			restarts:  l.jsonpath("pod/crash", "{.status.containerStatuses[0].restartCount}")}
		samples = append(samples, s)
		t.Logf("%8v %12d %12d %12d %5d %8s", s.at, s.spamLogs, s.crashLogs, s.agentRoot, s.crashDead, s.restarts)
		// 5 files of 10 MiB, and the one being written past its size
		// until the next record boundary.
		if s.spamLogs > 5*10<<20+1<<20 {
			t.Errorf("at %v the spammer's logs take %d bytes (5 × 10 MiB allowed)", s.at, s.spamLogs)
		}
		// One dead instance kept, and one more between GC passes.
		if s.crashDead > 2 {
			t.Errorf("at %v the crash-looper has %d dead containers", s.at, s.crashDead)
		}
	}
	bounded(t, samples)
}

// bounded: the agent's state in the last third is no larger than its
// largest in the first two thirds, with 10 % and 5 MiB of slack.
func bounded(t *testing.T, samples []soakSample) {
	if len(samples) < 3 {
		return
	}
	cut := 2 * len(samples) / 3
	var early, late int64
	for i, s := range samples {
		if i < cut {
			early = max(early, s.agentRoot)
		} else {
			late = max(late, s.agentRoot)
		}
	}
	if late > early+early/10+5<<20 {
		t.Errorf("the agent's state grew: %d bytes at most early, %d late", early, late)
	}
}

// duBytes is the bytes of the regular files below dir (not following
// links); 0 when it does not exist.
func duBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			if info, err := e.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
