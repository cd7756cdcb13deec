package apiserver

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// copyBomb is a JSON patch that adds a 1 KiB array at /x and then copies
// /x into itself n times, doubling it each time: 2^n KiB from a small patch.
func copyBomb(n int) []byte {
	ops := []string{fmt.Sprintf(`{"op":"add","path":"/x","value":[%q]}`, strings.Repeat("a", 1024))}
	for i := 0; i < n; i++ {
		ops = append(ops, `{"op":"copy","from":"/x","path":"/x/-"}`)
	}
	return []byte("[" + strings.Join(ops, ",") + "]")
}

// arrayInserts is a JSON patch that adds an array of about size bytes at /x
// and then inserts at its start ops-1 times, moving the whole array each time.
func arrayInserts(size, ops int) []byte {
	var b strings.Builder
	b.WriteString(`[{"op":"add","path":"/x","value":[0`)
	for b.Len() < size {
		b.WriteString(",0")
	}
	b.WriteString(`]}`)
	for i := 1; i < ops; i++ {
		b.WriteString(`,{"op":"add","path":"/x/0","value":1}`)
	}
	return []byte(b.String() + "]")
}

// envPatch is a strategic merge patch that merges n env vars into
// container c.
func envPatch(n int) []byte {
	env := make([]string, n)
	for i := range env {
		env[i] = fmt.Sprintf(`{"name":"x%d"}`, i)
	}
	return []byte(`{"spec":{"containers":[{"name":"c","env":[` + strings.Join(env, ",") + `]}]}}`)
}

// manyOps is a JSON patch of n test operations.
func manyOps(n int) []byte {
	ops := make([]string, n)
	for i := range ops {
		ops[i] = `{"op":"test","path":"/kind","value":"Pod"}`
	}
	return []byte("[" + strings.Join(ops, ",") + "]")
}

func podJSON(t testing.TB) []byte { return podWithEnv(t, 0) }

// podWithEnv is a pod whose container c has n env vars.
func podWithEnv(t testing.TB, n int) []byte {
	p := testPod("p")
	for i := 0; i < n; i++ {
		p.Spec.Containers[0].Env = append(p.Spec.Containers[0].Env, corev1.EnvVar{Name: fmt.Sprintf("e%d", i)})
	}
	p.Kind, p.APIVersion = "Pod", "v1"
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestPatchLimits(t *testing.T) {
	pod := podJSON(t)
	bigLabel := `{"metadata":{"labels":{"big":"` + strings.Repeat("b", maxPatchResultBytes) + `"}}}`
	cases := []struct {
		name  string
		pt    types.PatchType
		pod   []byte // nil: pod
		patch []byte
		code  int32
		msg   string
	}{
		{"copy bomb", types.JSONPatchType, nil, copyBomb(14), 422, ""},
		{"copies under the limit", types.JSONPatchType, nil, copyBomb(10), 0, ""},
		{"10,001 operations", types.JSONPatchType, nil, manyOps(10001), 413, "The allowed maximum operations in a JSON patch is 10000, got 10001"},
		{"10,000 operations", types.JSONPatchType, nil, manyOps(10000), 0, ""},
		{"not a JSON patch", types.JSONPatchType, nil, []byte(`{"op":"add"}`), 400, ""},
		{"a JSON patch that does not apply", types.JSONPatchType, nil, []byte(`[{"op":"remove","path":"/nope"}]`), 422, ""},
		{"merge patch result too big", types.MergePatchType, nil, []byte(bigLabel), 413, "the patched object is"},
		{"strategic merge result too big", types.StrategicMergePatchType, nil, []byte(bigLabel), 413, "the patched object is"},
		{"merge patch not JSON", types.MergePatchType, nil, []byte(`{`), 400, ""},
		{"strategic merge not JSON", types.StrategicMergePatchType, nil, []byte(`{`), 400, ""},
		{"quadratic JSON patch", types.JSONPatchType, nil, arrayInserts(700<<10, 100), 413, "is too much work"},
		{"JSON patch within the work bound", types.JSONPatchType, nil, arrayInserts(600<<10, 10), 0, ""},
		{"quadratic strategic merge", types.StrategicMergePatchType, podWithEnv(t, 1001), envPatch(1000), 413, "at most 2000 list elements"},
		{"strategic merge within the work bound", types.StrategicMergePatchType, podWithEnv(t, 998), envPatch(1000), 0, ""},
		{"strategic merge beside a big list", types.StrategicMergePatchType, podWithEnv(t, 5000), []byte(`{"spec":{"containers":[{"name":"c","image":"x"}]}}`), 0, ""},
		{"strategic merge, mixed list", types.StrategicMergePatchType, nil, []byte(`{"spec":{"containers":[[1]]}}`), 400, "list element types are not identical"},
	}
	for _, tc := range cases {
		doc := pod
		if tc.pod != nil {
			doc = tc.pod
		}
		_, err := patchJSON(tc.pt, doc, tc.patch, &corev1.Pod{})
		if tc.code == 0 {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		se, ok := err.(*apierrors.StatusError)
		if !ok || se.ErrStatus.Code != tc.code || !strings.Contains(statusText(se), tc.msg) {
			t.Errorf("%s: %v, want %d %q", tc.name, err, tc.code, tc.msg)
		}
	}
}

// The limits hold on the HTTP path: a copy bomb and too many operations are
// refused with kube-apiserver's codes, and the object is left as it was.
func TestPatchLimitsOverHTTP(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c, host := rawClient(t, ts)
	cm := &corev1.ConfigMap{}
	cm.Name = "cm"
	created, err := ts.admin(t).CoreV1().ConfigMaps("default").Create(bg, cm, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	url := host + "/api/v1/namespaces/default/configmaps/cm"
	code, st, _ := do(t, c, "PATCH", url, string(types.JSONPatchType), copyBomb(14))
	if code != 422 || st.Reason != "Invalid" {
		t.Errorf("copy bomb: %d %+v, want 422", code, st)
	}
	code, st, _ = do(t, c, "PATCH", url, string(types.JSONPatchType), manyOps(10001))
	if code != 413 || st.Message != "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001" {
		t.Errorf("10,001 operations: %d %+v, want 413", code, st)
	}
	got, err := ts.admin(t).CoreV1().ConfigMaps("default").Get(bg, "cm", metav1.GetOptions{})
	if err != nil || got.ResourceVersion != created.ResourceVersion {
		t.Fatalf("a refused patch changed the object: %v %s -> %s", err, created.ResourceVersion, got.ResourceVersion)
	}
}

// statusText is a status's message with the messages of its causes.
func statusText(se *apierrors.StatusError) string {
	text := se.ErrStatus.Message
	if d := se.ErrStatus.Details; d != nil {
		for _, c := range d.Causes {
			text += "; " + c.Message
		}
	}
	return text
}
