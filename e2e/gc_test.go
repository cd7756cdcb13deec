//go:build linux && e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/nodeagent/nodeagent/e2e/framework"
	"github.com/nodeagent/nodeagent/internal/syncbuf"
)

// gcImages is how many images TestImageGC fills the image filesystem with;
// gcImageLayer the size of each one's own (random, so incompressible) layer.
const (
	gcImages     = 30
	gcImageLayer = 1 << 20
	gcImageRepo  = "127.0.0.1:5000/nodeagent/gc-e2e"
)

// TestImageGC: 30 images fill the image filesystem above the high
// threshold (85 %); the agent's image GC removes unused ones until it is
// at the low threshold (80 %) and no further; the images a running and an
// exited container use survive.
//
// The image filesystem: containerd's root is the machine's, shared with
// every other test, so its real usage cannot be steered. The agent is
// told (NODEAGENT_TEST_IMAGEFS_CAPACITY) that its image filesystem is a
// given size holding its containerd namespace's content alone; the usage
// is then the real bytes of the real images in the namespace, and each
// removal frees them for real through containerd. The images are the test
// image plus one random 1 MiB layer each, imported into the namespace
// before the agent starts (so that the capacity can be set from them);
// NODEAGENT_TEST_GC_PERIOD shortens kubelet's 5 min period to 1 s.
func TestImageGC(t *testing.T) {
	requireAgentDeps(t)
	node := framework.NewLab(t)
	dirs := framework.NewNodeDirs(t, node, nodeName)
	ctr := containerdIn(t, dirs.Namespace)
	importGCImages(t, ctr, dirs.Namespace, gcImages)
	used := ctr.contentSize(t)
	capacity := used * 100 / 95 // 95 % full
	t.Setenv("NODEAGENT_TEST_IMAGEFS_CAPACITY", strconv.FormatInt(capacity, 10))
	t.Setenv("NODEAGENT_TEST_GC_PERIOD", "1s")
	// Every image is first seen when the agent starts; the minimum age
	// keeps them until the pods below have made their containers.
	srv := framework.StartAPIServer(t, node, append(dirs.AgentArgs(nodeName), "--minimum-image-ttl-duration", "40s")...)
	l := &agentLab{node: node, srv: srv, dirs: dirs, k: &kctl{t: t, srv: srv, bin: kubectls[0], kubeconfig: srv.Kubeconfig()}}
	l.waitFor(t, 60*time.Second, "node/"+nodeName, "{.status.conditions[?(@.type=='Ready')].status}", "True")
	start := time.Now()
	l.k.ok(gcPod("runs", 3, "Always", `args: [pause]`), "apply", "-f", "-")
	l.k.ok(gcPod("ran", 7, "Never", `command: [sh, -c, "exit 0"]`), "apply", "-f", "-")
	l.waitFor(t, 30*time.Second, "pod/runs", "{.status.phase}", "Running")
	l.waitFor(t, 30*time.Second, "pod/ran", "{.status.phase}", "Succeeded")
	if len(ctr.images(t)) != gcImages {
		t.Fatalf("images were removed within %v of the agent's start, before the minimum age", time.Since(start))
	}
	framework.Eventually(t, 120*time.Second, time.Second, "image GC down to the low threshold", func() error {
		if u := usage(ctr.contentSize(t), capacity); u > 80 {
			return fmt.Errorf("usage %d %%, %d images", u, len(ctr.images(t)))
		}
		return nil
	})
	left := ctr.images(t)
	for _, i := range []int{3, 7} {
		if !left[gcImageRef(i)] {
			t.Errorf("image %s, which a container uses, was removed", gcImageRef(i))
		}
	}
	// It stops at the low threshold: one image fewer removed would leave
	// the filesystem above it.
	after := ctr.contentSize(t)
	if usage(after+gcImageLayer+16<<10, capacity) <= 80 {
		t.Errorf("usage %d %% with %d of %d images left: more removed than needed to reach 80 %%", usage(after, capacity), len(left), gcImages)
	}
	t.Logf("%d images, %d %% full; %d left, %d %% full", gcImages, usage(used, capacity), len(left), usage(after, capacity))
	l.waitFor(t, 10*time.Second, "pod/runs", "{.status.phase}", "Running")
}

// usage is how full the filesystem is, as kubelet's image GC reckons it.
func usage(used, capacity int64) int {
	return 100 - int((capacity-used)*100/capacity)
}

func gcImageRef(i int) string { return fmt.Sprintf("%s:%02d", gcImageRepo, i) }

// gcPod runs gc-e2e image i, which the node has and never pulls.
func gcPod(name string, image int, restart, run string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  restartPolicy: %s
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: %s
    imagePullPolicy: Never
    %s
`, name, restart, gcImageRef(image), run)
}

// nsContainerd is a containerd client in one namespace.
type nsContainerd struct {
	c   *containerd.Client
	ctx context.Context
}

func containerdIn(t *testing.T, ns string) *nsContainerd {
	t.Helper()
	c, err := containerd.New(framework.ContainerdAddress())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &nsContainerd{c: c, ctx: namespaces.WithNamespace(context.Background(), ns)}
}

// contentSize adds up the namespace's content, as the agent's ImageFsInfo.
func (n *nsContainerd) contentSize(t *testing.T) int64 {
	t.Helper()
	var total int64
	if err := n.c.ContentStore().Walk(n.ctx, func(info content.Info) error {
		total += info.Size
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return total
}

func (n *nsContainerd) images(t *testing.T) map[string]bool {
	t.Helper()
	imgs, err := n.c.ListImages(n.ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, img := range imgs {
		out[img.Name()] = true
	}
	return out
}

// importGCImages imports n images, gc-e2e:00 ..., each the test image with
// a layer of its own, into the namespace (the framework's cleanup removes
// the namespace with them).
func importGCImages(t *testing.T, n *nsContainerd, ns string, count int) {
	t.Helper()
	ref, err := name.ParseReference(framework.TestImage(), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	base, err := remote.Image(ref)
	if err != nil {
		t.Fatalf("test image: %v", err)
	}
	refs := map[name.Reference]v1.Image{}
	for i := 0; i < count; i++ {
		layer, err := randomLayer(fmt.Sprintf("gc/%02d", i), gcImageLayer)
		if err != nil {
			t.Fatal(err)
		}
		img, err := mutate.AppendLayers(base, layer)
		if err != nil {
			t.Fatal(err)
		}
		tag, err := name.NewTag(gcImageRef(i), name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		refs[tag] = img
	}
	var archive bytes.Buffer
	if err := tarball.MultiRefWrite(refs, &archive); err != nil {
		t.Fatal(err)
	}
	imgs, err := n.c.Import(n.ctx, &archive)
	if err != nil || len(imgs) != count {
		t.Fatalf("import into %s: %d images, %v", ns, len(imgs), err)
	}
}

// randomLayer is a layer holding one file of size random bytes.
func randomLayer(path string, size int) (v1.Layer, error) {
	body := make([]byte, size)
	rand.Read(body)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: path, Mode: 0o644, Size: int64(size), Typeflag: tar.TypeReg}); err != nil {
		return nil, err
	}
	tw.Write(body)
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
}

// TestContainerGCAndLogRotation: a crash-looping pod keeps at most one
// dead container (and its log), and `kubectl logs` still shows the
// newest; a container writing 3 MB then 50 MB of logs keeps at most 5 files
// of 1 MiB (--container-log-max-size 1Mi, to be quick), `kubectl logs`
// shows its newest line and `kubectl logs -f` goes on across rotations
// without losing a line. NODEAGENT_TEST_GC_PERIOD shortens kubelet's
// 1 min container GC period to 1 s.
func TestContainerGCAndLogRotation(t *testing.T) {
	t.Setenv("NODEAGENT_TEST_GC_PERIOD", "1s")
	l := startAgentLab(t, "--container-log-max-size", "1Mi")
	ctr := containerdIn(t, l.dirs.Namespace)
	t.Run("CrashLoop", func(t *testing.T) { crashLoopKeepsOneDead(t, l, ctr) })
	t.Run("LogRotation", func(t *testing.T) { logsRotate(t, l, 1<<20) })
}

// TestLogRotationAtDefaultSizes: the same log spammer on an agent with
// kubelet's defaults (10Mi, 5 files): 30 MB of numbered lines followed
// across rotations, then 50 MB more, and at most 5 files of 10Mi.
func TestLogRotationAtDefaultSizes(t *testing.T) {
	l := startAgentLab(t)
	logsRotate(t, l, 10<<20)
}

func crashLoopKeepsOneDead(t *testing.T, l *agentLab, ctr *nsContainerd) {
	l.k.ok(`apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: `+framework.TestImage()+`
    command: [sh, -c, "echo attempt; exit 1"]
`, "apply", "-f", "-")
	// Three instances: the first two exited (10 s, then 20 s back-off).
	framework.Eventually(t, 90*time.Second, 500*time.Millisecond, "restartCount 2", func() error {
		n, _ := strconv.Atoi(l.jsonpath("pod/crash", "{.status.containerStatuses[0].restartCount}"))
		if n < 2 {
			return fmt.Errorf("restartCount %d", n)
		}
		return nil
	})
	uid := l.jsonpath("pod/crash", "{.metadata.uid}")
	logDir := filepath.Join(l.dirs.Logs, "default_crash_"+uid, "c")
	framework.Eventually(t, 15*time.Second, 200*time.Millisecond, "one dead container", func() error {
		dead, running := ctr.podContainers(t, uid)
		logs, _ := filepath.Glob(filepath.Join(logDir, "*.log"))
		if dead > 1 || dead+running > 2 || len(logs) > 2 {
			return fmt.Errorf("%d dead and %d running containers, logs %v", dead, running, logs)
		}
		if _, err := os.Stat(filepath.Join(logDir, "0.log")); err == nil {
			return fmt.Errorf("the first instance's log is still there")
		}
		return nil
	})
	// The newest instance, running or in back-off, is what kubectl shows.
	if out := l.k.ok("", "logs", "crash"); out != "attempt\n" {
		t.Errorf("kubectl logs: %q", out)
	}
}

// podContainers counts the pod's containers in containerd by their tasks'
// state.
func (n *nsContainerd) podContainers(t *testing.T, uid string) (dead, running int) {
	t.Helper()
	cs, err := n.c.Containers(n.ctx, fmt.Sprintf(`labels."io.nodeagent.pod.uid"==%q,labels."io.nodeagent.container.name"`, uid))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		task, err := c.Task(n.ctx, nil)
		if err != nil {
			dead++
			continue
		}
		st, err := task.Status(n.ctx)
		if err == nil && st.Status == containerd.Running {
			running++
		} else {
			dead++
		}
	}
	return dead, running
}

const logSpammer = `apiVersion: v1
kind: Pod
metadata: {name: spam}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: %s
    command:
    - sh
    - -c
    - |
      echo ready
      while [ ! -e /tmp/go ]; do sleep 0.1; done
      pad=$(head -c 1000 /dev/zero | tr '\0' x)
      i=0
      while [ $i -lt %d ]; do echo "line-$i $pad"; i=$((i+1)); done
      echo end-numbered
      while [ ! -e /tmp/spam ]; do sleep 0.1; done
      yes "$pad" | head -n 50000
      echo end-spam
      exec sleep 3600
`

// logsRotate runs the spammer: lines of 1 KiB, numbered over three times
// maxSize (kept whole: fewer than --container-log-max-files), followed
// with kubectl logs -f; then 50 MB more.
func logsRotate(t *testing.T, l *agentLab, maxSize int64) {
	numbered := int(3 * maxSize / 1000)
	l.k.ok(fmt.Sprintf(logSpammer, framework.TestImage(), numbered), "apply", "-f", "-")
	l.waitFor(t, 60*time.Second, "pod/spam", "{.status.phase}", "Running")
	follow := l.start(t, l.k, "logs", "-f", "spam")
	waitOutput(t, follow.out, "ready\n")
	l.k.ok("", "exec", "spam", "--", "touch", "/tmp/go")
	waitOutput(t, follow.out, "end-numbered\n")
	follow.stop()
	// The 50 MB come only now: written at once, they would prune files
	// (5 kept) that a follower slower than the writer has not read yet,
	// as with kubelet, and the numbered lines are what is checked.
	l.k.ok("", "exec", "spam", "--", "touch", "/tmp/spam")
	// Every numbered line once, in order, across the rotations.
	next := 0
	for _, line := range strings.Split(follow.out.String(), "\n") {
		if !strings.HasPrefix(line, "line-") {
			continue
		}
		n, _ := strconv.Atoi(strings.Fields(line)[0][len("line-"):])
		if n != next || len(line) != len(fmt.Sprintf("line-%d ", n))+1000 {
			t.Fatalf("kubectl logs -f: line %d (%d bytes) where line %d was due", n, len(line), next)
		}
		next++
	}
	if next != numbered {
		t.Fatalf("kubectl logs -f: %d numbered lines, want %d", next, numbered)
	}
	framework.Eventually(t, 120*time.Second, 500*time.Millisecond, "the spam written", func() error {
		if out, _, _ := l.k.run("", "logs", "spam", "--tail", "1"); out != "end-spam\n" {
			return fmt.Errorf("kubectl logs --tail 1: %q", tail(out, 80))
		}
		return nil
	})
	files, _ := filepath.Glob(filepath.Join(l.dirs.Logs, "default_spam_*", "c", "0.log*"))
	var total int64
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > maxSize {
			t.Errorf("%s: %d bytes, beyond --container-log-max-size %d", f, st.Size(), maxSize)
		}
		total += st.Size()
	}
	if len(files) == 0 || len(files) > 5 {
		t.Errorf("log files %v: want 1 to 5 (--container-log-max-files)", files)
	}
	t.Logf("%d MB written: %d log files, %d bytes", (numbered+50000)/1000, len(files), total)
}

// waitOutput waits until out holds s.
func waitOutput(t *testing.T, out *syncbuf.Buffer, s string) {
	t.Helper()
	framework.Eventually(t, 60*time.Second, 100*time.Millisecond, fmt.Sprintf("%q in the output", s), func() error {
		if !strings.Contains(out.String(), s) {
			return fmt.Errorf("output ends %q", tail(out.String(), 120))
		}
		return nil
	})
}
