package agent

import (
	"testing"
)

// FuzzParseManifest: no input panics the static pod parser, and what it
// accepts is this node's valid static pod. `go test` runs the seeds only;
// `go test -fuzz FuzzParseManifest ./agent/` explores.
func FuzzParseManifest(f *testing.F) {
	for _, seed := range []string{
		webManifest,
		webManifest + "    command: [sleep, inf]\n",
		"{{ not yaml: [",
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"}}`,
		"apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec: {containers: [{name: c, image: i}]}\n",
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"j","namespace":"kube-system"},"spec":{"containers":[{"name":"c","image":"i"}]}}`,
		"apiVersion: v1\nkind: Pod\nmetadata: {name: v}\nspec:\n  volumes: [{name: s, secret: {secretName: x, items: [{key: k, path: ../x}]}}]\n  containers: [{name: c, image: i, volumeMounts: [{name: s, mountPath: /s, subPath: ../../etc}]}]\n",
		"apiVersion: v1\nkind: Pod\nmetadata: {name: h}\nspec:\n  volumes: [{name: h, hostPath: {path: /var/lib/nodeagent, type: Bogus}}]\n  containers: [{name: c, image: i}]\n",
		"apiVersion: v1\nkind: Pod\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n",
		"",
		"\x00\xff",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pod, err := parseManifest(data, "n1", t0)
		if err != nil {
			return
		}
		if pod.Spec.NodeName != "n1" || pod.UID != staticUID(data, "n1") || !isStatic(pod) || pod.Namespace == "" {
			t.Fatalf("accepted a pod that is not this node's static pod: %+v", pod.ObjectMeta)
		}
	})
}
