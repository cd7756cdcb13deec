package deployment

import (
	"testing"
)

// The hash is stable for one template, changes with the template and with
// the collision count, and is safe as a name and label (no vowels, as
// rand.SafeEncodeString); EqualIgnoreHash ignores only the hash label.
func TestComputeHash(t *testing.T) {
	a := newDeployment("web", 1).Spec.Template
	b := *a.DeepCopy()
	b.Spec.Containers[0].Image = "img:2"
	one, two := int32(1), int32(2)
	h := ComputeHash(&a, nil)
	if h != ComputeHash(a.DeepCopy(), nil) {
		t.Error("hash differs for equal templates")
	}
	seen := map[string]bool{h: true}
	for _, o := range []string{ComputeHash(&b, nil), ComputeHash(&a, &one), ComputeHash(&a, &two)} {
		if seen[o] {
			t.Errorf("hash %s repeated", o)
		}
		seen[o] = true
	}
	for _, c := range h {
		if c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' {
			t.Errorf("hash %s has a vowel", h)
		}
	}
	labelled := *a.DeepCopy()
	labelled.Labels = withLabel(labelled.Labels, h)
	if !EqualIgnoreHash(&a, &labelled) || EqualIgnoreHash(&a, &b) {
		t.Error("EqualIgnoreHash")
	}
}
