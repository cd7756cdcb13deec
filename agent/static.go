package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/nodeagent/nodeagent/api/defaults"
	"github.com/nodeagent/nodeagent/api/podrefs"
	"github.com/nodeagent/nodeagent/api/validation"
)

// Static pods come from manifest files (kubelet's --pod-manifest-path).
// The agent keeps them in its own map, runs them whether or not the API is
// reachable, and mirrors them into the API (mirror.go).
const (
	annotationConfigSource = "kubernetes.io/config.source"
	annotationConfigHash   = "kubernetes.io/config.hash"
	annotationConfigSeen   = "kubernetes.io/config.seen"
	annotationConfigMirror = "kubernetes.io/config.mirror"
	configSourceFile       = "file"
)

func isStatic(pod *corev1.Pod) bool {
	return pod.Annotations[annotationConfigSource] == configSourceFile
}

func isMirror(pod *corev1.Pod) bool {
	_, ok := pod.Annotations[annotationConfigMirror]
	return ok
}

// runStatic rescans the manifest directory every ManifestCheckInterval.
// Run has done the first scan.
func (a *Agent) runStatic(ctx context.Context) {
	if a.cfg.PodManifestPath == "" {
		return
	}
	t := time.NewTicker(max(a.cfg.ManifestCheckInterval, time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.scanStatic()
		}
	}
}

// scanStatic reads the manifests and queues the static pods that appeared,
// changed or went away; a directory that cannot be read changes nothing.
func (a *Agent) scanStatic() {
	if a.cfg.PodManifestPath == "" {
		return
	}
	found, err := readManifests(a.cfg.PodManifestPath, a.cfg.NodeName, a.clock.Now(), a.log)
	if err != nil {
		a.log.Warn("reading the pod manifest directory", "err", err)
		return
	}
	for _, key := range a.replaceStatic(found) {
		a.queue.Add(key)
	}
}

// replaceStatic swaps in the pods read and returns the keys to sync. A pod
// whose UID did not change keeps its entry (seen time, status); a removed
// or changed one has its old UID torn down as an orphan.
func (a *Agent) replaceStatic(found map[string]*corev1.Pod) []workKey {
	a.staticMu.Lock()
	defer a.staticMu.Unlock()
	var keys []workKey
	for key, old := range a.static {
		if p, ok := found[key]; !ok || p.UID != old.UID {
			keys = append(keys, orphanKey(string(old.UID)), podWorkKey(old))
		}
	}
	for key, p := range found {
		if old, ok := a.static[key]; ok && old.UID == p.UID {
			found[key] = old
			continue
		}
		keys = append(keys, podWorkKey(p))
	}
	a.static = found
	return keys
}

// staticPod returns a copy of the static pod with this key, or nil.
func (a *Agent) staticPod(key string) *corev1.Pod {
	a.staticMu.Lock()
	defer a.staticMu.Unlock()
	if p, ok := a.static[key]; ok {
		return p.DeepCopy()
	}
	return nil
}

func (a *Agent) staticKeyByUID(uid string) (workKey, bool) {
	a.staticMu.Lock()
	defer a.staticMu.Unlock()
	for _, p := range a.static {
		if string(p.UID) == uid {
			return podWorkKey(p), true
		}
	}
	return workKey{}, false
}

// queueStatic queues every static pod.
func (a *Agent) queueStatic() {
	a.staticMu.Lock()
	defer a.staticMu.Unlock()
	for _, p := range a.static {
		a.queue.Add(podWorkKey(p))
	}
}

// readManifests reads every manifest in dir, logging and skipping those
// that are not a valid v1 Pod; the first of two files naming one pod wins.
func readManifests(dir, node string, now time.Time, log *slog.Logger) (map[string]*corev1.Pod, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	pods := map[string]*corev1.Pod{}
	for _, e := range entries {
		if e.IsDir() || !isManifest(e.Name()) {
			continue
		}
		file := filepath.Join(dir, e.Name())
		p, err := readManifest(file, node, now)
		if err != nil {
			log.Warn("skipping pod manifest", "file", file, "err", err)
			continue
		}
		if _, dup := pods[podKey(p)]; dup {
			log.Warn("skipping pod manifest", "file", file, "err", "another manifest has pod "+podKey(p))
			continue
		}
		pods[podKey(p)] = p
	}
	return pods, nil
}

func isManifest(name string) bool {
	switch filepath.Ext(name) {
	case ".yaml", ".yml", ".json":
		return !strings.HasPrefix(name, ".")
	}
	return false
}

// readManifest reads one static pod's manifest.
func readManifest(file, node string, now time.Time) (*corev1.Pod, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return parseManifest(data, node, now)
}

// parseManifest decodes, names, defaults and validates one static pod. As
// kubelet does (PreventStaticPodAPIReferences), it refuses a static pod
// that needs API objects: a service account, secrets, configmaps, claims...
// The agent would fetch them with its node's credentials, which the API
// server does not grant for a pod that exists only as a mirror pod.
func parseManifest(data []byte, node string, now time.Time) (*corev1.Pod, error) {
	pod, err := decodePod(data)
	if err != nil {
		return nil, err
	}
	makeStatic(pod, staticUID(data, node), node, now)
	defaults.StaticPod(pod)
	if errs := validation.Pod(pod); len(errs) > 0 {
		return nil, fmt.Errorf("invalid pod %s: %w", podKey(pod), errs.ToAggregate())
	}
	res, err := podrefs.APIObjectReference(pod)
	if err != nil {
		return nil, fmt.Errorf("pod %s: %w", podKey(pod), err)
	}
	if res != "" {
		return nil, fmt.Errorf("pod %s: static pods may not reference %s", podKey(pod), res)
	}
	return pod, nil
}

func decodePod(data []byte) (*corev1.Pod, error) {
	obj, gvk, err := scheme.Codecs.UniversalDeserializer().Decode(data, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok || gvk.Version != "v1" {
		return nil, fmt.Errorf("not a v1 Pod but %s", gvk)
	}
	return pod, nil
}

// makeStatic turns a decoded manifest into this node's static pod.
func makeStatic(p *corev1.Pod, uid types.UID, node string, now time.Time) {
	p.Name = p.Name + "-" + node
	if p.Namespace == "" {
		p.Namespace = metav1.NamespaceDefault
	}
	p.UID, p.ResourceVersion = uid, ""
	p.Spec.NodeName = node
	p.Status = corev1.PodStatus{}
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	p.Annotations[annotationConfigSource] = configSourceFile
	p.Annotations[annotationConfigHash] = string(uid)
	p.Annotations[annotationConfigSeen] = now.Format(time.RFC3339Nano)
}

// staticUID hashes the manifest and the node name into a UUID-shaped UID:
// the same file gives the same pod across restarts, a changed one a new pod.
func staticUID(data []byte, node string) types.UID {
	h := sha256.New()
	h.Write(data)
	h.Write([]byte{0})
	h.Write([]byte(node))
	s := hex.EncodeToString(h.Sum(nil)[:16])
	return types.UID(s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:])
}
