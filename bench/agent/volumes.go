package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/nodeagent/nodeagent/bench/internal/stats"
)

// volumeResults are the volume phase's figures.
type volumeResults struct {
	fresh        stats.Summary // claim + pod created -> Running, new volume
	staged       stats.Summary // pod on a claim already staged -> Running
	plain        stats.Summary // the same pod without the claim, interleaved
	configMap    stats.Summary // configMap update -> the new value in each pod's file
	configMapAll stats.Summary // configMap update -> in every pod's file
}

// freshVolumeSize is the new volume's size: the 1 GiB.
const freshVolumeSize = "1Gi"

// measureVolumes: pods each with a new claim of the default class
// (provisioned, attached, formatted ext4, mounted); pods on a claim that a
// holder pod keeps staged, beside the same pods without it; configMap
// changes reaching configMap-volume pods.
func measureVolumes(ctx context.Context, cfg config, b *benchNode, p *pods, progress io.Writer) (volumeResults, error) {
	var r volumeResults
	var err error
	v := &volumePods{pods: p}
	fmt.Fprintf(progress, "==> %d pods, each with a new %s claim of the default class, one at a time\n", cfg.Volumes, freshVolumeSize)
	if r.fresh, err = v.fresh(ctx, cfg.Volumes); err != nil {
		return r, err
	}
	fmt.Fprintf(progress, "==> %d pods on an already-staged claim, %d without, interleaved\n", cfg.Volumes, cfg.Volumes)
	if r.staged, r.plain, err = v.staged(ctx, cfg.Volumes); err != nil {
		return r, err
	}
	fmt.Fprintf(progress, "==> %d pods with a configMap volume, %d changes\n", cfg.ConfigMapPods, cfg.ConfigMapChanges)
	r.configMap, r.configMapAll, err = v.configMaps(ctx, filepath.Join(b.dir, "root"), cfg.ConfigMapPods, cfg.ConfigMapChanges)
	return r, err
}

// volumePods makes the volume phase's pods: no token volume (automount
// off), so that "without volumes" means none.
type volumePods struct{ *pods }

func (v *volumePods) pod(name string, vols ...corev1.Volume) *corev1.Pod {
	pod := v.plainSpec(name, corev1.RestartPolicyAlways)
	pod.Spec.AutomountServiceAccountToken = ptr.To(false)
	pod.Spec.Volumes = vols
	for _, vol := range vols {
		pod.Spec.Containers[0].VolumeMounts = append(pod.Spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: vol.Name, MountPath: "/" + vol.Name})
	}
	return pod
}

func claimVolume(claim string) corev1.Volume {
	return corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}
}

// start creates the pod (after the claim, if one is given) and returns the
// time from the first create to the watch event that shows it Running.
func (v *volumePods) start(ctx context.Context, claim string, pod *corev1.Pod) (time.Duration, error) {
	w := v.tr.await(pod.Name, isRunning)
	start := time.Now()
	if claim != "" {
		pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: claim, Namespace: benchNamespace},
			Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(freshVolumeSize)}}}}
		if _, err := v.cs.CoreV1().PersistentVolumeClaims(benchNamespace).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
			return 0, fmt.Errorf("create claim %s: %w", claim, err)
		}
	}
	if _, err := v.cs.CoreV1().Pods(benchNamespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		return 0, fmt.Errorf("create pod %s: %w", pod.Name, err)
	}
	at, err := w.wait(ctx, podTimeout)
	return at.Sub(start), err
}

// fresh starts n pods, each with its own new claim, one at a time, and
// deletes each pod and claim before the next (waiting for the volume to
// go, so that they do not pile up).
func (v *volumePods) fresh(ctx context.Context, n int) (stats.Summary, error) {
	var samples []time.Duration
	began := time.Now()
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("fresh-%d", i)
		d, err := v.start(ctx, name, v.pod(name, claimVolume(name)))
		if err != nil {
			return stats.Summary{}, err
		}
		samples = append(samples, d)
		if err := v.deleteAll(ctx); err != nil {
			return stats.Summary{}, err
		}
		if err := v.deleteClaims(ctx); err != nil {
			return stats.Summary{}, err
		}
	}
	return stats.Summarize(samples, time.Since(began)), nil
}

// staged keeps one claim staged with a holder pod and starts n pods on it
// and n pods without it, alternately, one at a time.
func (v *volumePods) staged(ctx context.Context, n int) (withClaim, without stats.Summary, err error) {
	if _, err := v.start(ctx, "staged", v.pod("holder", claimVolume("staged"))); err != nil {
		return withClaim, without, err
	}
	var ws, wos []time.Duration
	began := time.Now()
	for i := 0; i < n; i++ {
		d, err := v.start(ctx, "", v.pod(fmt.Sprintf("staged-%d", i), claimVolume("staged")))
		if err != nil {
			return withClaim, without, err
		}
		ws = append(ws, d)
		if d, err = v.start(ctx, "", v.pod(fmt.Sprintf("plain-%d", i))); err != nil {
			return withClaim, without, err
		}
		wos = append(wos, d)
	}
	wall := time.Since(began)
	if err := v.deleteAll(ctx); err != nil {
		return withClaim, without, err
	}
	return stats.Summarize(ws, wall), stats.Summarize(wos, wall), v.deleteClaims(ctx)
}

// deleteClaims deletes the namespace's claims and waits until no volume
// is left (the agent removed the backing files: reclaim Delete).
func (v *volumePods) deleteClaims(ctx context.Context) error {
	err := v.cs.CoreV1().PersistentVolumeClaims(benchNamespace).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("delete claims: %w", err)
	}
	deadline := time.Now().Add(podTimeout)
	for {
		pvs, err := v.cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		if len(pvs.Items) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d volumes left %s after their claims were deleted", len(pvs.Items), podTimeout)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// configMapName is the configMap phase's ConfigMap and volume.
const configMapName = "cm"

// configMaps starts n pods with the ConfigMap as a volume, then changes it
// `changes` times; for each change it reads every pod's file on the node
// (the agent's published copy, <root>/pods/<uid>/volumes/...) every 100 ms
// until all hold the new value: per pod, and for the last pod.
func (v *volumePods) configMaps(ctx context.Context, root string, n, changes int) (each, all stats.Summary, err error) {
	cms := v.cs.CoreV1().ConfigMaps(benchNamespace)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: configMapName}, Data: map[string]string{"key": "v0"}}
	if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return each, all, err
	}
	vol := corev1.Volume{Name: configMapName, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: configMapName}}}}
	files := make([]string, n)
	for i := range files {
		name := fmt.Sprintf("cm-%d", i)
		if _, err := v.start(ctx, "", v.pod(name, vol)); err != nil {
			return each, all, err
		}
		files[i] = filepath.Join(root, "pods", string(v.tr.get(name).UID), "volumes", "kubernetes.io~configmap", configMapName, "key")
	}
	var eachs, alls []time.Duration
	began := time.Now()
	for c := 1; c <= changes; c++ {
		want := fmt.Sprintf("v%d", c)
		cm, err := cms.Get(ctx, configMapName, metav1.GetOptions{})
		if err != nil {
			return each, all, err
		}
		cm.Data["key"] = want
		start := time.Now()
		if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			return each, all, err
		}
		times, err := waitFiles(ctx, files, want, start)
		if err != nil {
			return each, all, err
		}
		eachs = append(eachs, times...)
		alls = append(alls, slicesMax(times))
	}
	wall := time.Since(began)
	return stats.Summarize(eachs, wall), stats.Summarize(alls, wall), v.deleteAll(ctx)
}

// configMapTimeout bounds one change's wait: kube promises a minute and
// some.
const configMapTimeout = 3 * time.Minute

// waitFiles reads files every 100 ms until each holds want, and returns
// when each did, from start.
func waitFiles(ctx context.Context, files []string, want string, start time.Time) ([]time.Duration, error) {
	got := make([]time.Duration, len(files))
	left := len(files)
	for left > 0 {
		for i, f := range files {
			if got[i] != 0 {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
			if string(b) == want {
				got[i], left = time.Since(start), left-1
			}
		}
		if time.Since(start) > configMapTimeout {
			return nil, fmt.Errorf("%d of %d pods' files did not show the change within %s", left, len(files), configMapTimeout)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return nil, err
		}
	}
	return got, nil
}

func slicesMax(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

func reportVolumes(w io.Writer, cfg config, r volumeResults) {
	line(w, "pod start, new volume", r.fresh, fmt.Sprintf("claim (%s, nodeagent-local) and pod created -> Running: provision, attach, mkfs.ext4, mount; goal p99 <= 2.5 s", freshVolumeSize))
	line(w, "pod start, staged volume", r.staged, "pod on a claim another pod keeps staged -> Running")
	line(w, "pod start, no volume", r.plain, fmt.Sprintf("the same pod without the claim, interleaved; goal: staged within 100 ms (p50 difference %s)",
		stats.WholeMs(r.staged.P50-r.plain.P50)))
	line(w, "configMap -> each pod", r.configMap, fmt.Sprintf("ConfigMap update -> the new value in a pod's file; %d pods, %d changes", cfg.ConfigMapPods, cfg.ConfigMapChanges))
	line(w, "configMap -> all pods", r.configMapAll, "ConfigMap update -> the new value in every pod's file (kube: within a minute and some)")
}
