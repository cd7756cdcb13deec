// Package revision holds what the DaemonSet and StatefulSet controllers
// share about ControllerRevisions: their data is the patch `kubectl
// rollout undo` applies to bring a pod template back,
// {"spec":{"template":{...,"$patch":"replace"}}}, their names end in
// a hash of the template, and an owner claims them as it claims its pods.
package revision

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"reflect"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/rand"
)

// Data is the revision data of a pod template.
func Data(t *corev1.PodTemplateSpec) ([]byte, error) {
	raw, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("encode pod template: %w", err)
	}
	var tmpl map[string]any
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		return nil, fmt.Errorf("decode pod template: %w", err)
	}
	tmpl["$patch"] = "replace"
	return json.Marshal(map[string]any{"spec": map[string]any{"template": tmpl}})
}

// Template is the pod template a revision's data holds.
func Template(data []byte) (*corev1.PodTemplateSpec, error) {
	var d struct {
		Spec struct {
			Template *corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("decode revision data: %w", err)
	}
	if d.Spec.Template == nil {
		return nil, fmt.Errorf("revision data has no spec.template")
	}
	return d.Spec.Template, nil
}

// Same compares revision data by meaning, not bytes (the server may
// re-encode it).
func Same(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// Hash is an FNV-32a hash of the template's JSON and the collision
// count, encoded as kube encodes its hashes (safe in names and label
// values).
func Hash(t *corev1.PodTemplateSpec, collisions *int32) string {
	h := fnv.New32a()
	raw, _ := json.Marshal(t) // a PodTemplateSpec always encodes
	h.Write(raw)
	if collisions != nil {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(*collisions))
		h.Write(b[:])
	}
	return rand.SafeEncodeString(strconv.FormatUint(uint64(h.Sum32()), 10))
}
