//go:build linux && e2e

package e2e

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/agent"
	"github.com/nodeagent/nodeagent/api/localvolume"
	"github.com/nodeagent/nodeagent/e2e/framework"
)

// defaultClassClaim is a claim of the default class (nodeagent-local),
// provisioned for its first pod; no static volume.
func defaultClassClaim(name string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: %s}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
`, name)
}

// provisionedPod writes to a new claim of the default class and waits for
// the pod to run with the data there; it returns the claim's volume.
func (l *agentLab) provisionedPod(t *testing.T, pod, claim, data string) string {
	t.Helper()
	l.k.ok(defaultClassClaim(claim), "create", "-f", "-")
	l.k.ok(claimPod(pod, claim, false, "echo "+data+" > /data/f && sync && cat /data/f && sleep 3600"), "create", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/"+pod, "{.status.phase}", "Running")
	l.logsContain(t, pod, "c", data)
	pv := l.jsonpath("pvc/"+claim, "{.spec.volumeName}")
	if got := l.jsonpath("pv/"+pv, "{.spec.claimRef.name} {.spec.storageClassName}"); got != claim+" "+localvolume.DefaultClass {
		t.Fatalf("volume %s: claimRef and class %q", pv, got)
	}
	if got := l.jsonpath("pv/"+pv, "{.metadata.finalizers}"); !strings.Contains(got, localvolume.BackingFinalizer) {
		t.Errorf("volume %s finalizers %s, want %s", pv, got, localvolume.BackingFinalizer)
	}
	if _, err := os.Stat(l.backingFile(pv)); err != nil {
		t.Fatalf("backing file: %v", err)
	}
	return pv
}

func (l *agentLab) backingFile(pv string) string {
	return filepath.Join(l.dirs.Root, agent.BackingDirName, pv+".img")
}

// backingFilesOf lists the files in the backing directory of volume pv
// (its file and a removal marker).
func (l *agentLab) backingFilesOf(pv string) []string {
	out, _ := filepath.Glob(filepath.Join(l.dirs.Root, agent.BackingDirName, pv+".*"))
	return out
}

// The default class end to end, and what reclaim does on the node: a
// claim of nodeagent-local (no static volume) is provisioned for its pod,
// which runs with its data there; deleting the pod and the claim deletes
// the volume (reclaim Delete) and the agent removes its backing file
// before the volume goes. A volume set to Retain stays Released with its
// file, and deleting it by hand keeps the file.
func TestDefaultClassClaimReclaim(t *testing.T) {
	l := startAgentLab(t)
	k := l.k
	pv := l.provisionedPod(t, "writer", "data", "on-the-default-class")
	k.ok("", "delete", "pod", "writer", "--wait=true", "--timeout=60s")
	k.ok("", "delete", "pvc", "data", "--wait=true", "--timeout=60s")
	waitNoVolumes(t, k)
	if left := l.backingFilesOf(pv); len(left) != 0 {
		t.Errorf("reclaim Delete left %v", left)
	}

	kept := l.provisionedPod(t, "keeper", "keep", "retained")
	k.ok("", "patch", "pv", kept, "-p", `{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}`)
	k.ok("", "delete", "pod", "keeper", "--wait=true", "--timeout=60s")
	k.ok("", "delete", "pvc", "keep", "--wait=true", "--timeout=60s")
	l.waitFor(t, 60*time.Second, "pv/"+kept, "{.status.phase}", "Released")
	framework.Eventually(t, 30*time.Second, 250*time.Millisecond, "the volume unstaged", l.volumesLeft)
	k.ok("", "delete", "pv", kept, "--wait=true", "--timeout=60s")
	if _, err := os.Stat(l.backingFile(kept)); err != nil {
		t.Errorf("reclaim Retain: the backing file after the volume's deletion: %v", err)
	}
	if _, err := os.Stat(l.backingFile(pv)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the deleted volume's file: %v", err)
	}
}
