package claim

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	k8stypes "k8s.io/apimachinery/pkg/types"
)

func pod(name string, lbl string, owner string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, UID: "u-" + uid(name), Labels: map[string]string{"app": lbl}}}
	if owner != "" {
		t := true
		p.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: owner, UID: uid(owner), Controller: &t}}
	}
	return p
}

func uid(s string) k8stypes.UID { return k8stypes.UID(s) }

// The ControllerRef rules: own matching pods with our UID, release ours
// that stopped matching, adopt matching orphans (after one recheck), leave
// other owners' pods and pods being deleted alone; an owner being deleted
// neither adopts nor releases.
func TestObjects(t *testing.T) {
	orphanGoing := pod("going", "web", "")
	orphanGoing.DeletionTimestamp = &metav1.Time{}
	candidates := []*corev1.Pod{pod("mine", "web", "rs"), pod("relabelled", "db", "rs"), pod("orphan", "web", ""),
		pod("orphan2", "web", ""), pod("theirs", "web", "other"), pod("stranger", "db", ""), orphanGoing}
	for _, tc := range []struct {
		name                      string
		deleting                  bool
		recheck                   error
		want                      []string
		adopted, released, checks int
		fails                     bool
	}{
		{name: "active", want: []string{"mine", "orphan", "orphan2"}, adopted: 2, released: 1, checks: 1},
		{name: "deleting", deleting: true, want: []string{"mine"}},
		{name: "recreated owner", recheck: errors.New("other UID"), want: []string{"mine"}, released: 1, checks: 1, fails: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var adopted, released, checks int
			o := Owner{Ref: metav1.OwnerReference{UID: "rs"}, Deleting: tc.deleting,
				Selector: labels.SelectorFromSet(labels.Set{"app": "web"}),
				Recheck:  func(context.Context) error { checks++; return tc.recheck },
				Adopt:    func(context.Context, metav1.Object) error { adopted++; return nil },
				Release:  func(context.Context, metav1.Object) error { released++; return nil },
			}
			got, err := Objects(context.Background(), o, candidates)
			var names []string
			for _, p := range got {
				names = append(names, p.Name)
			}
			if (err != nil) != tc.fails || len(names) != len(tc.want) || adopted != tc.adopted || released != tc.released || checks != tc.checks {
				t.Fatalf("got %v err %v adopted %d released %d checks %d", names, err, adopted, released, checks)
			}
			for i := range names {
				if names[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", names, tc.want)
				}
			}
		})
	}
}

func TestPatches(t *testing.T) {
	ref := ControllerRef(&metav1.ObjectMeta{Name: "web", UID: "rs"}, "apps/v1", "ReplicaSet")
	adopt, err := AdoptPatch(ref, "pod")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"metadata":{"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web","uid":"rs","controller":true,"blockOwnerDeletion":true}],"uid":"pod"}}`
	if string(adopt) != want {
		t.Errorf("adopt %s", adopt)
	}
	release, _ := ReleasePatch("rs", "pod")
	var v map[string]any
	if err := json.Unmarshal(release, &v); err != nil || string(release) != `{"metadata":{"ownerReferences":[{"$patch":"delete","uid":"rs"}],"uid":"pod"}}` {
		t.Errorf("release %s", release)
	}
}

func TestSelector(t *testing.T) {
	for _, tc := range []struct {
		name string
		ls   *metav1.LabelSelector
		ok   bool
	}{
		{"nil", nil, false},
		{"empty", &metav1.LabelSelector{}, false},
		{"invalid", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Near"}}}, false},
		{"labels", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, true},
	} {
		sel, err := Selector(tc.ls)
		if (err == nil) != tc.ok || (tc.ok && !sel.Matches(labels.Set{"app": "web"})) {
			t.Errorf("%s: %v, %v", tc.name, sel, err)
		}
	}
}
