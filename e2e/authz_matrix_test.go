//go:build linux && e2e

package e2e

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nodeagent/nodeagent/api/localvolume"
	"github.com/nodeagent/nodeagent/e2e/framework"
)

// The API server's authorization matrix: every identity × every verb on
// every resource and subresource the server serves, with the code
// kube-apiserver (Node and RBAC authorization, NodeRestriction admission,
// anonymous access only to the health endpoints) answers. The server runs
// in a lab node without an agent; nodes a and b register themselves.

// c is a resource row's codes: anonymous and a bad token get 401, the user
// in no group 403 (only discovery is open to it); node a, node b and the
// admin as given.
func c(a, b, adm int) codes { return codes{401, 401, a, b, adm, 403} }

// target is what some rows act on: a collection of the API, the fixtures
// that make one of its objects (related to node a where it matters), and
// the bodies of the requests.
type target struct {
	collection string                                          // URL path of the collection
	sub        string                                          // subresource, if the rows act on one
	fixed      string                                          // the object's name, when not a fresh one
	query      func(name string) string                        // list, watch: a selector
	fixture    func(f *fixtures, name string) []runtime.Object // made by the admin before a request
	body       func(f *fixtures, name string) any              // create body; nil: the fixture's first object
	patch      string                                          // merge patch; "": a label
	itemQuery  string                                          // added to the object\'s URL
}

// verbRow is one row of the table: a verb on a target, and the codes.
type verbRow struct {
	target string
	verb   string
	want   codes
}

func core(path string) string    { return "/api/v1/" + path }
func inMatrix(res string) string { return core("namespaces/" + matrixNS + "/" + res) }

func byName(name string) string { return "fieldSelector=" + url.QueryEscape("metadata.name="+name) }

// targets are what the rows name.
func targets() map[string]target {
	boundToA := func(f *fixtures, n string) []runtime.Object { return []runtime.Object{pod(matrixNS, n, "a")} }
	unbound := func(f *fixtures, n string) []runtime.Object { return []runtime.Object{pod(matrixNS, n, "")} }
	usedByA := func(obj func(string, string) runtime.Object, vol func(string) corev1.Volume) func(*fixtures, string) []runtime.Object {
		return func(f *fixtures, n string) []runtime.Object {
			return []runtime.Object{obj(matrixNS, n), pod(matrixNS, n+"-user", "a", vol(n))}
		}
	}
	secretOfA := usedByA(func(ns, n string) runtime.Object { return secret(ns, n) }, secretVolume)
	configMapOfA := usedByA(func(ns, n string) runtime.Object { return configMap(ns, n) }, configMapVolume)
	claimOfA := usedByA(func(ns, n string) runtime.Object { return claim(ns, n, "") }, claimVolume)
	tgs := map[string]target{
		"pods bound to a":           {collection: inMatrix("pods"), fixture: boundToA},
		"pods on a (spec.nodeName)": {collection: inMatrix("pods"), query: func(string) string { return "fieldSelector=spec.nodeName%3Da" }},
		"a's mirror pods": {collection: inMatrix("pods"), fixture: func(f *fixtures, n string) []runtime.Object {
			return []runtime.Object{f.mirrorPod(matrixNS, n, "a")}
		}},
		"pods in victim with a secret (the issue)": {collection: core("namespaces/" + victimNS + "/pods"),
			body: func(f *fixtures, n string) any { return pod(victimNS, n, "a", secretVolume(n+"-db")) }},
		"pods/status of a's pod": {collection: inMatrix("pods"), sub: "status", fixture: boundToA,
			patch: `{"status":{"message":"matrix"}}`}, // a node may not relabel through status
		"pods/binding": {collection: inMatrix("pods"), sub: "binding", fixture: unbound},
		// A container the pod lacks is 400 in kube (and no node is 400 here)
		// whether or not the pod is scheduled.
		"pods/log": {collection: inMatrix("pods"), sub: "log", itemQuery: "?container=nope", fixture: unbound},
		// The streams: a container the pod lacks, or no node, is 400 for
		// whoever may ask (GET, the WebSocket handshake, needs create too).
		"pods/exec":                            {collection: inMatrix("pods"), sub: "exec", itemQuery: "?container=nope&command=id&stdout=true", fixture: unbound},
		"pods/attach":                          {collection: inMatrix("pods"), sub: "attach", itemQuery: "?container=nope&stdout=true", fixture: unbound},
		"pods/portforward":                     {collection: inMatrix("pods"), sub: "portforward", itemQuery: "?ports=80", fixture: unbound},
		"nodes: a":                             {collection: core("nodes"), fixed: "a", body: func(*fixtures, string) any { return node("a") }},
		"nodes: a, role label":                 {collection: core("nodes"), fixed: "a", patch: `{"metadata":{"labels":{"node-role.kubernetes.io/worker":""}}}`},
		"nodes: a, taints":                     {collection: core("nodes"), fixed: "a", patch: `{"spec":{"taints":[{"key":"matrix","effect":"NoSchedule"}]}}`},
		"nodes: another":                       {collection: core("nodes"), fixture: func(f *fixtures, n string) []runtime.Object { return []runtime.Object{node(n)} }},
		"nodes: a by metadata.name":            {collection: core("nodes"), query: func(string) string { return byName("a") }},
		"nodes/status: a":                      {collection: core("nodes"), sub: "status", fixed: "a"},
		"secrets of a's pods":                  {collection: inMatrix("secrets"), fixture: secretOfA},
		"secrets of a's pods by metadata.name": {collection: inMatrix("secrets"), fixture: secretOfA, query: byName},
		"secrets in victim (the issue)": {collection: core("namespaces/" + victimNS + "/secrets"),
			fixture: func(f *fixtures, n string) []runtime.Object { return []runtime.Object{secret(victimNS, n)} }},
		"configmaps of a's pods": {collection: inMatrix("configmaps"), fixture: configMapOfA},
		"configmaps of a's mirror pods": {collection: inMatrix("configmaps"), fixture: func(f *fixtures, n string) []runtime.Object {
			return []runtime.Object{configMap(matrixNS, n), f.mirrorPod(matrixNS, n+"-mirror", "a", configMapVolume(n))}
		}},
		"persistentvolumeclaims of a's pods": {collection: inMatrix("persistentvolumeclaims"), fixture: claimOfA},
		"persistentvolumeclaims/status of a's pods": {collection: inMatrix("persistentvolumeclaims"), sub: "status", fixture: claimOfA,
			patch: `{"status":{"conditions":[{"type":"Resizing","status":"True"}]}}`},
		"persistentvolumes of a's pods": {collection: core("persistentvolumes"), fixture: func(f *fixtures, n string) []runtime.Object {
			return []runtime.Object{volume(n), claim(matrixNS, n+"-claim", n), pod(matrixNS, n+"-user", "a", claimVolume(n+"-claim"))}
		}},
		"services": {collection: inMatrix("services"), fixture: func(f *fixtures, n string) []runtime.Object {
			return []runtime.Object{service(matrixNS, n)}
		}},
		"endpointslices": {collection: "/apis/discovery.k8s.io/v1/namespaces/" + matrixNS + "/endpointslices",
			fixture: func(f *fixtures, n string) []runtime.Object { return []runtime.Object{endpointSlice(matrixNS, n)} }},
		"leases: a's": {collection: "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", fixed: "a",
			fixture: func(f *fixtures, n string) []runtime.Object { return []runtime.Object{lease("kube-node-lease", n)} }},
		"leases: a outside kube-node-lease": {collection: "/apis/coordination.k8s.io/v1/namespaces/" + matrixNS + "/leases", fixed: "a",
			fixture: func(f *fixtures, n string) []runtime.Object { return []runtime.Object{lease(matrixNS, n)} }},
		"events": {collection: inMatrix("events"), fixture: func(f *fixtures, n string) []runtime.Object {
			return []runtime.Object{event(matrixNS, n)}
		}},
		"namespaces": {collection: core("namespaces"), fixture: func(f *fixtures, n string) []runtime.Object {
			return []runtime.Object{namespace(n)}
		}},
		"serviceaccounts": {collection: inMatrix("serviceaccounts"), fixture: func(f *fixtures, n string) []runtime.Object {
			return []runtime.Object{serviceAccount(matrixNS, n)}
		}},
		"serviceaccounts/token for a's pod": {collection: inMatrix("serviceaccounts"), sub: "token", fixture: tokenFixture,
			body: func(f *fixtures, n string) any { return boundToken(n+"-user", f.podUID(matrixNS, n+"-user")) }},
		"serviceaccounts/token, unbound": {collection: inMatrix("serviceaccounts"), sub: "token", fixture: tokenFixture,
			body: func(f *fixtures, n string) any { return boundToken("", "") }},
		"storageclasses": {collection: storage("storageclasses"), fixture: func(f *fixtures, n string) []runtime.Object {
			return []runtime.Object{storageClass(n)}
		}},
		"priorityclasses": {collection: "/apis/scheduling.k8s.io/v1/priorityclasses", fixture: func(f *fixtures, n string) []runtime.Object {
			return []runtime.Object{priorityClass(n)}
		}},
		"csidrivers": {collection: storage("csidrivers"), fixture: func(f *fixtures, n string) []runtime.Object {
			return []runtime.Object{csiDriver(n)}
		}},
		"volumeattachments of a": {collection: storage("volumeattachments"), fixture: func(f *fixtures, n string) []runtime.Object {
			return []runtime.Object{attachment(n, "a")}
		}},
		"volumeattachments/status of a": {collection: storage("volumeattachments"), sub: "status", fixture: func(f *fixtures, n string) []runtime.Object {
			return []runtime.Object{attachment(n, "a")}
		}, patch: `{"status":{"attached":true}}`},
		"local persistentvolumes on a": {collection: core("persistentvolumes"), fixture: func(f *fixtures, n string) []runtime.Object {
			return []runtime.Object{localVolume(n, "a")}
		}},
		// The one change a node may make: its backing-file finalizer.
		"local persistentvolumes on a: backing finalizer": {collection: core("persistentvolumes"), fixture: func(f *fixtures, n string) []runtime.Object {
			return []runtime.Object{localVolume(n, "a")}
		}, patch: `{"metadata":{"finalizers":["kubernetes.io/pv-protection","` + localvolume.BackingFinalizer + `"]}}`},
		"selfsubjectreviews": {collection: "/apis/authentication.k8s.io/v1/selfsubjectreviews",
			body: func(*fixtures, string) any {
				return map[string]any{"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
			}},
	}
	for name, tg := range rbacTargets() {
		tgs[name] = tg
	}
	return tgs
}

func storage(res string) string { return "/apis/storage.k8s.io/v1/" + res }

// tokenFixture is a service account and a pod on a that runs as it.
func tokenFixture(f *fixtures, n string) []runtime.Object {
	p := pod(matrixNS, n+"-user", "a")
	p.Spec.ServiceAccountName = n
	return []runtime.Object{serviceAccount(matrixNS, n), p}
}

// boundToken is a TokenRequest bound to a pod ("": to nothing).
func boundToken(pod string, uid types.UID) map[string]any {
	spec := map[string]any{}
	if pod != "" {
		spec["boundObjectRef"] = map[string]any{"apiVersion": "v1", "kind": "Pod", "name": pod, "uid": uid}
	}
	return map[string]any{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}
}

// verbRows is the table. Per verb the rows say what node a, node b and
// the admin get (c(a, b, admin)); kube-apiserver answers the same.
var verbRows = []verbRow{
	{"pods bound to a", "get", c(200, 403, 200)},
	{"pods bound to a", "list", c(403, 403, 200)},
	{"pods bound to a", "watch", c(403, 403, 200)},
	{"pods bound to a", "create", c(403, 403, 201)}, // not a mirror pod
	{"pods bound to a", "update", c(403, 403, 200)},
	{"pods bound to a", "patch", c(403, 403, 200)},
	{"pods bound to a", "delete", c(200, 403, 200)},
	{"pods bound to a", "deletecollection", c(403, 403, 200)},
	{"pods on a (spec.nodeName)", "list", c(200, 403, 200)},
	{"pods on a (spec.nodeName)", "watch", c(200, 403, 200)},
	{"a's mirror pods", "get", c(200, 403, 200)},
	{"a's mirror pods", "create", c(201, 403, 201)},
	{"a's mirror pods", "delete", c(200, 403, 200)},
	{"pods in victim with a secret (the issue)", "create", c(403, 403, 201)},
	{"pods/status of a's pod", "get", c(403, 403, 200)},
	{"pods/status of a's pod", "create", c(403, 403, 405)},
	{"pods/status of a's pod", "update", c(200, 403, 200)},
	{"pods/status of a's pod", "patch", c(200, 403, 200)},
	{"pods/status of a's pod", "delete", c(403, 403, 405)},
	{"pods/binding", "create", c(403, 403, 201)},
	{"pods/binding", "get", c(403, 403, 405)},
	{"pods/binding", "update", c(403, 403, 405)},
	{"pods/binding", "patch", c(403, 403, 405)},
	{"pods/binding", "delete", c(403, 403, 405)},
	{"pods/log", "get", c(403, 403, 400)},
	{"pods/log", "create", c(403, 403, 405)},
	{"pods/log", "update", c(403, 403, 405)},
	{"pods/log", "patch", c(403, 403, 405)},
	{"pods/log", "delete", c(403, 403, 405)},
	{"pods/exec", "get", c(403, 403, 400)},
	{"pods/exec", "create", c(403, 403, 400)},
	{"pods/exec", "update", c(403, 403, 405)},
	{"pods/exec", "patch", c(403, 403, 405)},
	{"pods/exec", "delete", c(403, 403, 405)},
	{"pods/attach", "get", c(403, 403, 400)},
	{"pods/attach", "create", c(403, 403, 400)},
	{"pods/attach", "update", c(403, 403, 405)},
	{"pods/attach", "patch", c(403, 403, 405)},
	{"pods/attach", "delete", c(403, 403, 405)},
	{"pods/portforward", "get", c(403, 403, 400)},
	{"pods/portforward", "create", c(403, 403, 400)},
	{"pods/portforward", "update", c(403, 403, 405)},
	{"pods/portforward", "patch", c(403, 403, 405)},
	{"pods/portforward", "delete", c(403, 403, 405)},
	{"nodes: a", "get", c(200, 403, 200)},
	{"nodes: a", "create", c(409, 403, 409)}, // a exists; b may not make it
	{"nodes: a", "update", c(200, 403, 200)},
	{"nodes: a", "patch", c(200, 403, 200)},
	{"nodes: a, role label", "patch", c(403, 403, 200)},
	{"nodes: a, taints", "patch", c(403, 403, 200)},
	{"nodes: a by metadata.name", "list", c(200, 403, 200)},
	{"nodes: a by metadata.name", "watch", c(200, 403, 200)},
	{"nodes: another", "get", c(403, 403, 200)},
	{"nodes: another", "list", c(403, 403, 200)},
	{"nodes: another", "watch", c(403, 403, 200)},
	{"nodes: another", "create", c(403, 403, 201)},
	{"nodes: another", "update", c(403, 403, 200)},
	{"nodes: another", "patch", c(403, 403, 200)},
	{"nodes: another", "delete", c(403, 403, 200)},
	{"nodes: another", "deletecollection", c(403, 403, 200)},
	{"nodes/status: a", "get", c(403, 403, 200)},
	{"nodes/status: a", "create", c(403, 403, 405)},
	{"nodes/status: a", "update", c(200, 403, 200)},
	{"nodes/status: a", "patch", c(200, 403, 200)},
	{"nodes/status: a", "delete", c(403, 403, 405)},
	{"secrets of a's pods", "get", c(200, 403, 200)},
	{"secrets of a's pods", "list", c(403, 403, 200)},
	{"secrets of a's pods", "watch", c(403, 403, 200)},
	{"secrets of a's pods", "create", c(403, 403, 201)},
	{"secrets of a's pods", "update", c(403, 403, 200)},
	{"secrets of a's pods", "patch", c(403, 403, 200)},
	{"secrets of a's pods", "delete", c(403, 403, 200)},
	{"secrets of a's pods", "deletecollection", c(403, 403, 200)},
	{"secrets of a's pods by metadata.name", "list", c(200, 403, 200)},
	{"secrets of a's pods by metadata.name", "watch", c(200, 403, 200)},
	{"secrets in victim (the issue)", "get", c(403, 403, 200)},
	{"configmaps of a's pods", "get", c(200, 403, 200)},
	{"configmaps of a's pods", "list", c(403, 403, 200)},
	{"configmaps of a's pods", "watch", c(403, 403, 200)},
	{"configmaps of a's pods", "create", c(403, 403, 201)},
	{"configmaps of a's pods", "update", c(403, 403, 200)},
	{"configmaps of a's pods", "patch", c(403, 403, 200)},
	{"configmaps of a's pods", "delete", c(403, 403, 200)},
	{"configmaps of a's pods", "deletecollection", c(403, 403, 200)},
	{"configmaps of a's mirror pods", "get", c(403, 403, 200)},
	{"persistentvolumeclaims of a's pods", "get", c(200, 403, 200)},
	{"persistentvolumeclaims of a's pods", "list", c(403, 403, 200)},
	{"persistentvolumeclaims of a's pods", "watch", c(403, 403, 200)},
	{"persistentvolumeclaims of a's pods", "create", c(403, 403, 201)},
	{"persistentvolumeclaims of a's pods", "update", c(403, 403, 200)},
	{"persistentvolumeclaims of a's pods", "patch", c(403, 403, 200)},
	{"persistentvolumeclaims of a's pods", "delete", c(403, 403, 200)},
	{"persistentvolumeclaims of a's pods", "deletecollection", c(403, 403, 200)},
	{"persistentvolumeclaims/status of a's pods", "get", c(403, 403, 200)},
	{"persistentvolumeclaims/status of a's pods", "update", c(200, 403, 200)},
	{"persistentvolumeclaims/status of a's pods", "patch", c(200, 403, 200)},
	{"persistentvolumes of a's pods", "get", c(200, 403, 200)},
	{"persistentvolumes of a's pods", "list", c(403, 403, 200)},
	{"persistentvolumes of a's pods", "watch", c(403, 403, 200)},
	{"persistentvolumes of a's pods", "create", c(403, 403, 201)},
	{"persistentvolumes of a's pods", "update", c(403, 403, 200)},
	{"persistentvolumes of a's pods", "patch", c(403, 403, 200)},
	{"persistentvolumes of a's pods", "delete", c(403, 403, 200)},
	{"persistentvolumes of a's pods", "deletecollection", c(403, 403, 200)},
	{"services", "get", c(200, 200, 200)},
	{"services", "list", c(200, 200, 200)},
	{"services", "watch", c(200, 200, 200)},
	{"services", "create", c(403, 403, 201)},
	{"services", "update", c(403, 403, 200)},
	{"services", "patch", c(403, 403, 200)},
	{"services", "delete", c(403, 403, 200)},
	{"services", "deletecollection", c(403, 403, 200)},
	// kube gives kube-proxy a role of its own for these; nodeagent's proxy
	// runs with its node's credentials.
	{"endpointslices", "get", c(200, 200, 200)},
	{"endpointslices", "list", c(200, 200, 200)},
	{"endpointslices", "watch", c(200, 200, 200)},
	{"endpointslices", "create", c(403, 403, 201)},
	{"endpointslices", "update", c(403, 403, 200)},
	{"endpointslices", "patch", c(403, 403, 200)},
	{"endpointslices", "delete", c(403, 403, 200)},
	{"endpointslices", "deletecollection", c(403, 403, 200)},
	{"leases: a's", "get", c(200, 403, 200)},
	{"leases: a's", "list", c(403, 403, 200)},
	{"leases: a's", "watch", c(403, 403, 200)},
	{"leases: a's", "create", c(409, 403, 409)}, // it exists; b may not make it
	{"leases: a's", "update", c(200, 403, 200)},
	{"leases: a's", "patch", c(200, 403, 200)},
	{"leases: a's", "delete", c(200, 403, 200)},
	{"leases: a's", "deletecollection", c(403, 403, 200)},
	{"leases: a outside kube-node-lease", "get", c(403, 403, 200)},
	{"leases: a outside kube-node-lease", "update", c(403, 403, 200)},
	{"events", "get", c(403, 403, 200)},
	{"events", "list", c(403, 403, 200)},
	{"events", "watch", c(403, 403, 200)},
	{"events", "create", c(201, 201, 201)},
	{"events", "update", c(200, 200, 200)},
	{"events", "patch", c(200, 200, 200)},
	{"events", "delete", c(403, 403, 200)},
	{"events", "deletecollection", c(403, 403, 200)},
	{"namespaces", "get", c(403, 403, 200)},
	{"namespaces", "list", c(403, 403, 200)},
	{"namespaces", "watch", c(403, 403, 200)},
	{"namespaces", "create", c(403, 403, 201)},
	{"namespaces", "update", c(403, 403, 200)},
	{"namespaces", "patch", c(403, 403, 200)},
	{"namespaces", "delete", c(403, 403, 200)},
	{"namespaces", "deletecollection", c(403, 403, 405)},
	{"serviceaccounts", "get", c(403, 403, 200)},
	{"serviceaccounts", "list", c(403, 403, 200)},
	{"serviceaccounts", "watch", c(403, 403, 200)},
	{"serviceaccounts", "create", c(403, 403, 201)},
	{"serviceaccounts", "update", c(403, 403, 200)},
	{"serviceaccounts", "patch", c(403, 403, 200)},
	{"serviceaccounts", "delete", c(403, 403, 200)},
	{"serviceaccounts", "deletecollection", c(403, 403, 200)},
	// kube's Node authorizer and NodeRestriction: tokens of its pods'
	// service accounts, bound to its pods.
	{"serviceaccounts/token for a's pod", "create", c(201, 403, 201)},
	{"serviceaccounts/token for a's pod", "get", c(403, 403, 405)},
	{"serviceaccounts/token for a's pod", "update", c(403, 403, 405)},
	{"serviceaccounts/token for a's pod", "delete", c(403, 403, 405)},
	{"serviceaccounts/token, unbound", "create", c(403, 403, 201)},
	{"storageclasses", "get", c(403, 403, 200)},
	{"storageclasses", "list", c(403, 403, 200)},
	{"storageclasses", "watch", c(403, 403, 200)},
	{"storageclasses", "create", c(403, 403, 201)},
	{"storageclasses", "update", c(403, 403, 200)},
	{"storageclasses", "patch", c(403, 403, 200)},
	{"storageclasses", "delete", c(403, 403, 200)},
	{"storageclasses", "deletecollection", c(403, 403, 200)},
	// kube's system:node role grants nothing on priorityclasses.
	{"priorityclasses", "get", c(403, 403, 200)},
	{"priorityclasses", "list", c(403, 403, 200)},
	{"priorityclasses", "watch", c(403, 403, 200)},
	{"priorityclasses", "create", c(403, 403, 201)},
	{"priorityclasses", "update", c(403, 403, 200)},
	{"priorityclasses", "patch", c(403, 403, 200)},
	{"priorityclasses", "delete", c(403, 403, 200)},
	{"priorityclasses", "deletecollection", c(403, 403, 200)},
	{"csidrivers", "get", c(200, 200, 200)},
	{"csidrivers", "list", c(200, 200, 200)},
	{"csidrivers", "watch", c(200, 200, 200)},
	{"csidrivers", "create", c(403, 403, 201)},
	{"csidrivers", "update", c(403, 403, 200)},
	{"csidrivers", "patch", c(403, 403, 200)},
	{"csidrivers", "delete", c(403, 403, 200)},
	{"csidrivers", "deletecollection", c(403, 403, 200)},
	{"volumeattachments of a", "get", c(200, 403, 200)},
	{"volumeattachments of a", "list", c(403, 403, 200)},
	{"volumeattachments of a", "watch", c(403, 403, 200)},
	{"volumeattachments of a", "create", c(403, 403, 201)},
	{"volumeattachments of a", "update", c(403, 403, 200)},
	{"volumeattachments of a", "patch", c(403, 403, 200)},
	{"volumeattachments of a", "delete", c(403, 403, 200)},
	{"volumeattachments of a", "deletecollection", c(403, 403, 200)},
	{"volumeattachments/status of a", "get", c(403, 403, 200)},
	{"volumeattachments/status of a", "update", c(403, 403, 200)},
	{"volumeattachments/status of a", "patch", c(403, 403, 200)},
	// nodeagent's own rule: a node keeps the backing-file finalizer of the
	// local volumes on it, and changes nothing else.
	{"local persistentvolumes on a", "get", c(200, 403, 200)},
	{"local persistentvolumes on a", "list", c(403, 403, 200)},
	{"local persistentvolumes on a", "watch", c(403, 403, 200)},
	{"local persistentvolumes on a", "create", c(403, 403, 201)},
	{"local persistentvolumes on a", "update", c(403, 403, 200)},
	{"local persistentvolumes on a", "patch", c(403, 403, 200)},
	{"local persistentvolumes on a", "delete", c(403, 403, 200)},
	{"local persistentvolumes on a: backing finalizer", "patch", c(200, 403, 200)},
	{"selfsubjectreviews", "create", codes{401, 401, 201, 201, 201, 201}},
	{"selfsubjectreviews", "get", c(403, 403, 405)},
	// kube's default system:basic-user binding: every authenticated user.
	{"selfsubjectaccessreviews", "create", codes{401, 401, 201, 201, 201, 201}},
	{"selfsubjectaccessreviews", "get", c(403, 403, 405)},
	{"selfsubjectrulesreviews", "create", codes{401, 401, 201, 201, 201, 201}},
}

// pathRows are the non-resource paths: health for everyone without
// credentials, discovery for everyone authenticated.
var pathRows = []struct {
	path string
	want codes
}{
	{"/healthz", codes{200, 401, 200, 200, 200, 200}},
	{"/livez", codes{200, 401, 200, 200, 200, 200}},
	{"/readyz", codes{200, 401, 200, 200, 200, 200}},
	{"/version", codes{401, 401, 200, 200, 200, 200}},
	{"/api", codes{401, 401, 200, 200, 200, 200}},
	{"/api/v1", codes{401, 401, 200, 200, 200, 200}},
	{"/apis", codes{401, 401, 200, 200, 200, 200}},
	{"/apis/coordination.k8s.io/v1", codes{401, 401, 200, 200, 200, 200}},
	{"/apis/storage.k8s.io/v1", codes{401, 401, 200, 200, 200, 200}},
	// Issuer discovery: service accounts and admins, as kube's default.
	{"/.well-known/openid-configuration", codes{401, 401, 403, 403, 200, 403}},
	{"/openid/v1/jwks", codes{401, 401, 403, 403, 200, 403}},
}

// matrix turns the table into requests.
type matrix struct {
	t       *testing.T
	f       *fixtures
	c       *authzCallers
	targets map[string]target
}

func (m *matrix) rows() []authzRow {
	var rows []authzRow
	for _, p := range pathRows {
		rows = append(rows, authzRow{name: "GET " + p.path, req: requestTo("GET", p.path), want: p.want})
	}
	for _, r := range append(append([]verbRow{}, verbRows...), rbacRows()...) {
		tg, ok := m.targets[r.target]
		if !ok {
			m.t.Fatalf("no target %q", r.target)
		}
		rows = append(rows, authzRow{name: r.verb + " " + r.target, req: m.requestFor(tg, r.verb), want: r.want})
	}
	return rows
}

// requestFor builds the verb's request on tg for an identity: on a fresh
// object (or the fixed one), made first unless the identity cannot get
// past authentication or the request creates it.
func (m *matrix) requestFor(tg target, verb string) func(identity) authzRequest {
	return func(who identity) authzRequest {
		name := tg.fixed
		if name == "" {
			name = m.f.fresh()
		}
		authenticated := who != anonymous && who != badToken
		if authenticated && tg.fixture != nil && (verb != "create" || tg.fixed != "" || tg.sub != "") {
			m.f.ensure(tg.fixture(m.f, name)...)
		}
		return m.request(tg, verb, name, authenticated)
	}
}

func (m *matrix) request(tg target, verb, name string, authenticated bool) authzRequest {
	item := tg.collection + "/" + name
	if tg.sub != "" {
		item += "/" + tg.sub
	}
	item += tg.itemQuery
	query := "?"
	if tg.query != nil {
		query += tg.query(name) + "&"
	}
	switch verb {
	case "get":
		return authzRequest{method: "GET", path: item}
	case "list":
		return authzRequest{method: "GET", path: tg.collection + query}
	case "watch":
		return authzRequest{method: "GET", path: tg.collection + query + "watch=1&timeoutSeconds=1"}
	case "create":
		return m.create(tg, item, name)
	case "update":
		body := []byte("{}") // to a subresource that serves no PUT
		if tg.sub == "" || tg.sub == "status" {
			body = m.current(item, tg.sub == "", authenticated)
		}
		return authzRequest{method: "PUT", path: item, contentType: "application/json", body: body}
	case "patch":
		patch := tg.patch
		if patch == "" {
			patch = `{"metadata":{"labels":{"matrix-patched":"yes"}}}`
		}
		return authzRequest{method: "PATCH", path: item, contentType: "application/merge-patch+json", body: []byte(patch)}
	case "delete":
		return authzRequest{method: "DELETE", path: item}
	case "deletecollection":
		return authzRequest{method: "DELETE", path: tg.collection + "?labelSelector=matrix%3D" + name}
	}
	m.t.Fatalf("no verb %q", verb)
	return authzRequest{}
}

// create POSTs the target's body to the collection, or a Binding (to node
// a) or an empty object to a subresource.
func (m *matrix) create(tg target, item, name string) authzRequest {
	var body any = map[string]any{}
	switch {
	case tg.sub == "binding":
		body = map[string]any{"apiVersion": "v1", "kind": "Binding", "metadata": map[string]any{"name": name},
			"target": map[string]any{"kind": "Node", "name": "a"}}
	case tg.body != nil:
		body = tg.body(m.f, name)
	case tg.sub != "":
	default:
		body = tg.fixture(m.f, name)[0]
	}
	b, err := json.Marshal(body)
	if err != nil {
		m.t.Fatal(err)
	}
	path := tg.collection
	if tg.sub != "" {
		path = item
	}
	return authzRequest{method: "POST", path: path, contentType: "application/json", body: b}
}

// current is the object at item as the admin reads it, for a PUT: without
// its resourceVersion (an unconditional update) and, unless it is a
// subresource, with a label added.
func (m *matrix) current(item string, relabel, authenticated bool) []byte {
	if !authenticated {
		return []byte("{}")
	}
	code, body, err := m.c.getJSON(admin, item)
	if err != nil || code != 200 {
		m.t.Fatalf("GET %s as admin: %d %v %s", item, code, err, body)
	}
	var obj map[string]any
	if err := json.Unmarshal(body, &obj); err != nil {
		m.t.Fatal(err)
	}
	md := obj["metadata"].(map[string]any)
	delete(md, "resourceVersion")
	if relabel {
		labels, _ := md["labels"].(map[string]any)
		if labels == nil {
			labels = map[string]any{}
		}
		labels["matrix-updated"] = "yes"
		md["labels"] = labels
	}
	b, _ := json.Marshal(obj)
	return b
}

func TestAuthzMatrix(t *testing.T) {
	requireAPIServerDeps(t)
	node := framework.NewLab(t)
	// The matrix updates the Node objects it made with PUTs of its own
	// copies: the node IPAM would give them ranges meanwhile.
	srv := framework.StartAPIServer(t, node, "--disable-agent", "--token-auth-file", authzTokenFile(t), "--controllers=*,-node-ipam-controller")
	c := newAuthzCallers(t, node, srv, "https://127.0.0.1:6443")
	f := newFixtures(t, node, srv)
	registerNodes(t, c)
	f.ensure(namespace(matrixNS), namespace(victimNS))
	m := &matrix{t: t, f: f, c: c, targets: targets()}
	runAuthzMatrix(t, c, m.rows())
	checkDenialMessages(t, c, f)
}

// registerNodes: node a and node b create their own Node, as agents do.
func registerNodes(t *testing.T, c *authzCallers) {
	t.Helper()
	for who, name := range map[identity]string{nodeA: "a", nodeB: "b"} {
		b, _ := json.Marshal(node(name))
		code, body, err := c.do(who, authzRequest{method: "POST", path: core("nodes"), contentType: "application/json", body: b})
		if err != nil || code != 201 {
			t.Fatalf("%s registers its Node: %d %v %s", who, code, err, body)
		}
	}
}

// checkDenialMessages: the repro and node a against node b, with
// kube's words.
func checkDenialMessages(t *testing.T, c *authzCallers, f *fixtures) {
	f.ensure(secret(victimNS, "db"), pod(matrixNS, "on-b", "b"), lease("kube-node-lease", "b"))
	thief, _ := json.Marshal(pod(victimNS, "thief", "a", secretVolume("db")))
	status, _ := json.Marshal(pod(matrixNS, "on-b", "b"))
	cases := []struct {
		who  identity
		req  authzRequest
		want string
	}{
		{nodeA, authzRequest{method: "POST", path: core("namespaces/victim/pods"), contentType: "application/json", body: thief},
			`pods \"thief\" is forbidden: pod does not have \"kubernetes.io/config.mirror\" annotation, node \"a\" can only create mirror pods`},
		{nodeA, authzRequest{method: "GET", path: core("namespaces/victim/secrets/db")},
			`secrets \"db\" is forbidden: User \"system:node:a\" cannot get resource \"secrets\" in API group \"\" in the namespace \"victim\": node: no relationship found between node 'a' and this object`},
		{nodeA, authzRequest{method: "GET", path: core("nodes/b")},
			`nodes \"b\" is forbidden: User \"system:node:a\" cannot get resource \"nodes\" in API group \"\" at the cluster scope: node: node 'a' cannot read 'b', only its own Node object`},
		{nodeA, authzRequest{method: "PATCH", path: core("nodes/b"), contentType: "application/merge-patch+json", body: []byte(`{"metadata":{"labels":{"x":"y"}}}`)},
			`nodes \"b\" is forbidden: node \"a\" is not allowed to modify node \"b\"`},
		{nodeA, authzRequest{method: "PUT", path: inMatrix("pods/on-b/status"), contentType: "application/json", body: status},
			`pods \"on-b\" is forbidden: node \"a\" can only update pod status for pods with spec.nodeName set to itself`},
		{nodeA, authzRequest{method: "GET", path: "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/b"},
			`leases.coordination.k8s.io \"b\" is forbidden: User \"system:node:a\" cannot get resource \"leases\" in API group \"coordination.k8s.io\" in the namespace \"kube-node-lease\": node: can only access node lease with the same name as the requesting node`},
	}
	for _, tc := range cases {
		code, body, err := c.do(tc.who, tc.req)
		if err != nil || code != 403 || !strings.Contains(body, `"message":"`+tc.want+`"`) {
			t.Errorf("%s %s %s: %d %v\n got  %s\n want message %s", tc.who, tc.req.method, tc.req.path, code, err, oneLine(body), tc.want)
		}
	}
}
