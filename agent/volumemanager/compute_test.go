package volumemanager

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestComputePlan(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	a, b := stagingKey{"d", "a"}, stagingKey{"d", "b"}
	csi := func(k stagingKey) *desiredVolume {
		return &desiredVolume{kind: kindCSI, csi: &csiVolume{key: k, pvName: k.handle}}
	}
	cm := &desiredVolume{name: "cm", kind: kindFiles, src: corev1.Volume{VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}}}
	dw := &desiredVolume{name: "dw", kind: kindFiles, src: corev1.Volume{VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{}}}}
	empty := &desiredVolume{name: "e", kind: kindEmptyDir, src: corev1.Volume{VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	published := func(uid types.UID, k stagingKey) map[publishKey]publishedRecord {
		return map[publishKey]publishedRecord{{uid: uid, pvName: k.handle}: {Driver: k.driver, VolumeHandle: k.handle, PVName: k.handle, PodUID: string(uid)}}
	}
	for _, tc := range []struct {
		name string
		in   planInput
		want plan
	}{{
		name: "a new pod: stage, publish, set up",
		in: planInput{desired: []desiredPod{{uid: "u1", volumes: map[string]*desiredVolume{"data": csi(a), "cm": cm, "e": empty}}},
			actual: actualState{setUp: map[podVolume]setUpInfo{}}},
		want: plan{stage: []stagingKey{a}, publish: []podVolume{{"u1", "data"}}, setUp: []podVolume{{"u1", "cm"}, {"u1", "e"}}},
	}, {
		name: "published and mounted: nothing; files not due, emptyDir done",
		in: planInput{desired: []desiredPod{{uid: "u1", version: "1", volumes: map[string]*desiredVolume{"data": csi(a), "cm": cm, "dw": dw, "e": empty}}},
			actual: actualState{staged: map[stagingKey]stagedRecord{a: {Staged: true}}, published: published("u1", a),
				mounted: map[publishKey]bool{{"u1", "a"}: true},
				setUp:   map[podVolume]setUpInfo{{"u1", "cm"}: {at: now}, {"u1", "dw"}: {at: now, version: "1"}, {"u1", "e"}: {at: now.Add(-time.Hour)}}},
			now: now, refresh: time.Minute},
	}, {
		name: "a published record without its mount is published again; a downwardAPI of an older pod written again; files due",
		in: planInput{desired: []desiredPod{{uid: "u1", version: "2", volumes: map[string]*desiredVolume{"data": csi(a), "cm": cm, "dw": dw}}},
			actual: actualState{staged: map[stagingKey]stagedRecord{a: {Staged: true}}, published: published("u1", a), mounted: map[publishKey]bool{},
				setUp: map[podVolume]setUpInfo{{"u1", "cm"}: {at: now.Add(-time.Minute)}, {"u1", "dw"}: {at: now, version: "1"}}},
			now: now, refresh: time.Minute},
		want: plan{stage: []stagingKey{a}, publish: []podVolume{{"u1", "data"}}, setUp: []podVolume{{"u1", "cm"}, {"u1", "dw"}}},
	}, {
		name: "a gone pod is unpublished; its volume unstaged once the sources are ready; another pod's stays",
		in: planInput{gone: map[types.UID]bool{"u1": true}, sourcesReady: true,
			actual: actualState{staged: map[stagingKey]stagedRecord{a: {}, b: {}}, published: merge(published("u1", a), published("u2", b))}},
		want: plan{unpublish: []publishKey{{"u1", "a"}}, unstage: []stagingKey{a}},
	}, {
		name: "before the sources are ready nothing is unstaged",
		in:   planInput{gone: map[types.UID]bool{"u1": true}, actual: actualState{staged: map[stagingKey]stagedRecord{a: {}}, published: published("u1", a)}},
		want: plan{unpublish: []publishKey{{"u1", "a"}}},
	}, {
		name: "a pod not desired but not gone (not added yet after a restart) keeps its publish",
		in:   planInput{sourcesReady: true, actual: actualState{staged: map[stagingKey]stagedRecord{a: {}}, published: published("u9", a)}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			if got := computePlan(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("plan\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func merge(a, b map[publishKey]publishedRecord) map[publishKey]publishedRecord {
	for k, v := range b {
		a[k] = v
	}
	return a
}
