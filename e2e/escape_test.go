//go:build linux && e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// Container escape tests: a pod is confined to its volumes. Nothing it
// writes or links in them makes the agent (root) or the runtime touch a
// host path outside them. Each test watches a canary file on the host
// that it made: its content, mode and modification time must not change.

// hostCanary is a host file that no pod may change.
type hostCanary struct {
	path string
	st   os.FileInfo
}

func newCanary(t *testing.T) *hostCanary {
	t.Helper()
	p := filepath.Join(t.TempDir(), "canary")
	if err := os.WriteFile(p, []byte("host file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return &hostCanary{path: p, st: st}
}

func (c *hostCanary) intact(t *testing.T) {
	t.Helper()
	st, err := os.Lstat(c.path)
	if err != nil {
		t.Fatalf("the host canary %s: %v", c.path, err)
	}
	b, _ := os.ReadFile(c.path)
	if string(b) != "host file\n" || st.Mode() != c.st.Mode() || !st.ModTime().Equal(c.st.ModTime()) {
		t.Fatalf("a pod changed the host file %s: %q mode %v mtime %v (was %v %v)", c.path, b, st.Mode(), st.ModTime(), c.st.Mode(), c.st.ModTime())
	}
}

// fill replaces the placeholders of a manifest.
func fill(manifest string, kv ...string) string {
	return strings.NewReplacer(append([]string{"IMAGE", framework.TestImage()}, kv...)...).Replace(manifest)
}

// waitConfigError waits until the container cannot be created for a
// reason in its configuration, and returns the message.
func (l *agentLab) waitConfigError(t *testing.T, pod, container string) string {
	t.Helper()
	path := fmt.Sprintf("{.status.containerStatuses[?(@.name=='%s')].state.waiting", container)
	l.waitFor(t, 90*time.Second, "pod/"+pod, path+".reason}", "CreateContainerConfigError")
	return l.jsonpath("pod/"+pod, path+".message}")
}

// logsContain waits until the container's logs hold want.
func (l *agentLab) logsContain(t *testing.T, pod, container, want string) string {
	t.Helper()
	var logs string
	framework.Eventually(t, 90*time.Second, 250*time.Millisecond, pod+"/"+container+" logs "+want, func() error {
		logs, _, _ = l.k.run("", "logs", pod, "-c", container)
		if !strings.Contains(logs, want) {
			return fmt.Errorf("logs: %q", logs)
		}
		return nil
	})
	return logs
}

const plantInVolumes = `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {key: v1}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
data: {key: czE=}
---
apiVersion: v1
kind: Pod
metadata: {name: plant}
spec:
  containers:
  - name: c
    image: IMAGE
    command: [sh, -c]
    args:
    - |
      echo "cfg=$(cat /cfg/key) sec=$(cat /sec/key)"
      for d in /cfg /sec; do
        rm -f $d/key && ln -s CANARY $d/key && echo "$d planted"
        echo pwned > $d/new && echo "$d written"
      done
      sleep 2; exit 1
    volumeMounts: [{name: cfg, mountPath: /cfg}, {name: sec, mountPath: /sec}]
  volumes:
  - {name: cfg, configMap: {name: cfg}}
  - {name: sec, secret: {secretName: sec}}
`

// TestEscapeThroughConfigMapAndSecretVolumes: a container tries to replace
// the key of its configMap and secret volumes with a symlink to a host file
// and to write there; the volumes are read-only. The ConfigMap and Secret
// change and the container restarts (the agent writes the volumes again):
// the container sees the new data, and the host file is unchanged.
func TestEscapeThroughConfigMapAndSecretVolumes(t *testing.T) {
	l := startAgentLab(t)
	canary := newCanary(t)
	l.k.ok(fill(plantInVolumes, "CANARY", canary.path), "apply", "-f", "-")
	first := l.logsContain(t, "plant", "c", "cfg=v1 sec=s1")
	l.k.ok(strings.NewReplacer("key: v1", "key: v2", "czE=", "czI=").Replace(fill(plantInVolumes, "CANARY", canary.path)), "apply", "-f", "-")
	framework.Eventually(t, 90*time.Second, 250*time.Millisecond, "the container restarted", func() error {
		if n := l.jsonpath("pod/plant", "{.status.containerStatuses[0].restartCount}"); n == "" || n == "0" {
			return fmt.Errorf("restartCount %q", n)
		}
		return nil
	})
	canary.intact(t)
	l.logsContain(t, "plant", "c", "cfg=v2 sec=s2") // the restarted container
	if strings.Contains(first, "planted") || strings.Contains(first, "written") || !strings.Contains(first, "Read-only file system") {
		t.Errorf("the volumes were writable:\n%s", first)
	}
}

const plantSubPaths = `apiVersion: v1
kind: Pod
metadata: {name: subpath}
spec:
  initContainers:
  - name: plant
    image: IMAGE
    command: [sh, -c, "ln -s / /work/root && ln -s HOSTDIR /work/hostdir && ln -s CANARY /work/hostfile && mkdir /work/ok"]
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: root
    image: IMAGE
    command: [sh, -c, "echo pwned > /host/CANARY; sleep 3600"]
    volumeMounts: [{name: work, mountPath: /host, subPath: root}]
  - name: dir
    image: IMAGE
    command: [sh, -c, "echo pwned > /hostdir/canary; sleep 3600"]
    volumeMounts: [{name: work, mountPath: /hostdir, subPath: hostdir}]
  - name: file
    image: IMAGE
    command: [sh, -c, "echo pwned > /f; sleep 3600"]
    volumeMounts: [{name: work, mountPath: /f, subPath: hostfile}]
  - name: ok
    image: IMAGE
    command: [sh, -c, "echo fine > /ok/file && echo subpath ok; sleep 3600"]
    volumeMounts: [{name: work, mountPath: /ok, subPath: ok}]
  volumes: [{name: work, emptyDir: {}}]
`

// TestEscapeThroughSubPathSymlinks: an init container plants symlinks to
// the host's /, a host directory and a host file in an emptyDir; the
// containers that mount them as subPaths do not start (a clear
// CreateContainerConfigError and Warning event); one with a subPath inside
// the volume runs; the host file is unchanged.
func TestEscapeThroughSubPathSymlinks(t *testing.T) {
	l := startAgentLab(t)
	canary := newCanary(t)
	l.k.ok(fill(plantSubPaths, "HOSTDIR", filepath.Dir(canary.path), "CANARY", canary.path), "apply", "-f", "-")
	l.logsContain(t, "subpath", "ok", "subpath ok")
	canary.intact(t) // the containers before ok in the pod were tried first
	for c, sub := range map[string]string{"root": "root", "dir": "hostdir", "file": "hostfile"} {
		msg := l.waitConfigError(t, "subpath", c)
		want := fmt.Sprintf(`failed to prepare subPath %q for volumeMount "work" of container %q: it leads outside the volume`, sub, c)
		if msg != want {
			t.Errorf("container %s: message %q, want %q", c, msg, want)
		}
	}
	if desc := l.k.ok("", "describe", "pod", "subpath"); !strings.Contains(desc, "Error: failed to prepare subPath") {
		t.Errorf("no Warning event for the refused subPath:\n%s", desc)
	}
	canary.intact(t)
	l.k.ok("", "delete", "pod", "subpath", "--grace-period=1")
	framework.Eventually(t, 60*time.Second, 250*time.Millisecond, "no mounts left", func() error {
		if left := framework.MountsUnder(l.dirs.Root); len(left) > 0 {
			return fmt.Errorf("mounted: %v", left)
		}
		return nil
	})
}

const peekPods = `apiVersion: v1
kind: Secret
metadata: {name: other}
data: {key: c2VjcmV0}
---
apiVersion: v1
kind: Pod
metadata: {name: other}
spec:
  containers:
  - {name: c, image: IMAGE, command: [sleep, "3600"], volumeMounts: [{name: s, mountPath: /s}]}
  volumes: [{name: s, secret: {secretName: other}}]
---
apiVersion: v1
kind: Pod
metadata: {name: peek}
spec:
  containers:
  - name: root
    image: IMAGE
    command: [sh, -c, "grep -r . /state | grep -c secret; sleep 3600"]
    volumeMounts: [{name: root, mountPath: /state}]
  - name: link
    image: IMAGE
    command: [sleep, "3600"]
    volumeMounts: [{name: link, mountPath: /state}]
  - name: create
    image: IMAGE
    command: [sleep, "3600"]
    volumeMounts: [{name: create, mountPath: /state}]
  volumes:
  - {name: root, hostPath: {path: ROOT, type: Directory}}
  - {name: link, hostPath: {path: LINK}}
  - {name: create, hostPath: {path: ROOT/pods/new, type: DirectoryOrCreate}}
`

// TestEscapeThroughHostPathIntoTheAgentsState: hostPath volumes of the
// agent's root directory (where other pods' secrets are), directly,
// through a symlink or to be created there, are refused: as kubelet's
// volume manager refuses a volume, each is a FailedMount event and no
// container of the pod starts.
func TestEscapeThroughHostPathIntoTheAgentsState(t *testing.T) {
	l := startAgentLab(t)
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(filepath.Join(l.dirs.Root, "pods"), link); err != nil {
		t.Fatal(err)
	}
	l.k.ok(fill(peekPods, "ROOT", l.dirs.Root, "LINK", link), "apply", "-f", "-")
	l.waitFor(t, 90*time.Second, "pod/other", "{.status.phase}", "Running")
	framework.Eventually(t, 90*time.Second, 500*time.Millisecond, "a FailedMount event for each volume", func() error {
		out, _, _ := l.k.run("", "get", "events", "--field-selector", "involvedObject.name=peek,reason=FailedMount",
			"-o", `jsonpath={range .items[*]}{.message}{"\n"}{end}`)
		for _, v := range []string{"root", "link", "create"} {
			if !strings.Contains(out, fmt.Sprintf("MountVolume.SetUp failed for volume %q", v)) {
				return fmt.Errorf("none for %s in:\n%s", v, out)
			}
		}
		if n := strings.Count(out, "is refused: inside the node agent's own state"); n < 3 {
			return fmt.Errorf("%d refusals in:\n%s", n, out)
		}
		return nil
	})
	if ids := l.jsonpath("pod/peek", "{.status.containerStatuses[*].containerID}"); ids != "" {
		t.Errorf("containers of the pod were created: %s", ids)
	}
	if _, err := os.Lstat(filepath.Join(l.dirs.Root, "pods", "new")); !os.IsNotExist(err) {
		t.Errorf("a DirectoryOrCreate hostPath was created in the agent's state: %v", err)
	}
}

const secretModes = `apiVersion: v1
kind: Secret
metadata: {name: modes}
data: {a: MQ==, b: Mg==}
---
apiVersion: v1
kind: Pod
metadata: {name: modes}
spec:
  containers:
  - name: c
    image: IMAGE
    command: [sh, -c]
    args:
    - |
      echo "fs=$(stat -f -c %T /s) a=$(stat -L -c %a /s/a) b=$(stat -L -c %a /i/x/b) one=$(cat /one)"
      touch /s/new 2>&1 | grep -q Read-only && echo "read-only"
      sleep 3600
    volumeMounts:
    - {name: s, mountPath: /s}
    - {name: i, mountPath: /i}
    - {name: s, mountPath: /one, subPath: a}
  volumes:
  - {name: s, secret: {secretName: modes, defaultMode: 0400}}
  - {name: i, secret: {secretName: modes, items: [{key: b, path: x/b, mode: 0440}]}}
`

// TestSecretVolumeOnTmpfs: a secret volume is a tmpfs with the files'
// modes from defaultMode or the item, read-only; a subPath of it works;
// the tmpfs and the subPath mount are gone with the pod.
func TestSecretVolumeOnTmpfs(t *testing.T) {
	l := startAgentLab(t)
	l.k.ok(fill(secretModes), "apply", "-f", "-")
	logs := l.logsContain(t, "modes", "c", "read-only")
	if !strings.Contains(logs, "fs=tmpfs a=400 b=440 one=1") {
		t.Errorf("in the container: %q", logs)
	}
	uid := l.jsonpath("pod/modes", "{.metadata.uid}")
	secretDir := filepath.Join(l.dirs.Root, "pods", uid, "volumes", "kubernetes.io~secret", "s")
	if st, err := os.Stat(filepath.Join(secretDir, "a")); err != nil || st.Mode().Perm() != 0o400 {
		t.Errorf("on the host: %v %v", st, err)
	}
	mounts := strings.Join(framework.MountsUnder(l.dirs.Root), " ")
	if !strings.Contains(mounts, secretDir) || !strings.Contains(mounts, filepath.Join(l.dirs.Root, "pods", uid, "volume-subpaths", "s", "c", "2")) {
		t.Errorf("mounts beneath the agent's root: %s", mounts)
	}
	l.k.ok("", "delete", "pod", "modes", "--grace-period=1")
	framework.Eventually(t, 60*time.Second, 250*time.Millisecond, "no mounts left", func() error {
		if left := framework.MountsUnder(l.dirs.Root); len(left) > 0 {
			return fmt.Errorf("mounted: %v", left)
		}
		return nil
	})
}

// TestVolumeMountsAfterAgentRestartAndCleanup: the volume mounts of a pod
// are found again by a restarted agent (removed when the pod is deleted)
// and by `nodeagent agent --cleanup`.
func TestVolumeMountsAfterAgentRestartAndCleanup(t *testing.T) {
	requireAgentDeps(t)
	node := framework.NewLab(t)
	dirs := framework.NewNodeDirs(t, node, nodeName)
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	l := &agentLab{node: node, srv: srv, dirs: dirs, k: &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}}
	args := append(append([]string{"agent"}, agentCredentials(t, srv, nodeName)...), dirs.AgentArgs(nodeName)...)
	agent := framework.StartProcess(t, node, "agent", args...)
	mounted := func(n int) func() error {
		return func() error {
			if got := framework.MountsUnder(dirs.Root); len(got) != n {
				return fmt.Errorf("%d mounts, want %d: %v", len(got), n, got)
			}
			return nil
		}
	}
	l.k.ok(fill(secretModes), "apply", "-f", "-")
	l.logsContain(t, "modes", "c", "read-only")
	// Two secret volumes, the subPath, and the kube-api-access volume that
	// ServiceAccount admission adds (it holds a token: a tmpfs too).
	framework.Eventually(t, 10*time.Second, 200*time.Millisecond, "a tmpfs per secret volume, the token volume and the subPath", mounted(4))

	agent.Kill9()
	agent.Start()
	l.k.ok("", "delete", "pod", "modes", "--grace-period=1")
	framework.Eventually(t, 60*time.Second, 250*time.Millisecond, "the restarted agent unmounts", mounted(0))

	l.k.ok(strings.ReplaceAll(fill(secretModes), "name: modes}\nspec", "name: again}\nspec"), "apply", "-f", "-")
	l.logsContain(t, "again", "c", "read-only")
	agent.Kill9()
	cleanup := exec.Command(framework.Binary(t), append([]string{"agent", "--cleanup"}, dirs.AgentArgs(nodeName)...)...)
	var out strings.Builder
	cleanup.Stdout, cleanup.Stderr = &out, &out
	if err := node.Run(cleanup); err != nil {
		t.Fatalf("agent --cleanup: %v\n%s", err, out.String())
	}
	if err := mounted(0)(); err != nil {
		t.Fatalf("after agent --cleanup: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(dirs.Root, "pods")); len(entries) != 0 {
		t.Fatalf("pod directories left: %v", entries)
	}
}
