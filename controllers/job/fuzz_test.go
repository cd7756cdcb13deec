package job

import "testing"

// FuzzIndexes: any completedIndexes string parses without panicking into
// indexes below completions, and the set's string form parses back to it.
func FuzzIndexes(f *testing.F) {
	for _, s := range []string{"", "1", "0,2-4,7", "3-1", "-1", "x,1-", "5-99999999999999999999"} {
		f.Add(s, uint16(10))
	}
	f.Fuzz(func(t *testing.T, s string, completions uint16) {
		set := parseIndexes(s, int(completions))
		for i := range set {
			if i < 0 || i >= int(completions) {
				t.Fatalf("%q: index %d outside [0, %d)", s, i, completions)
			}
		}
		again := parseIndexes(set.String(), int(completions))
		if len(again) != len(set) || again.String() != set.String() {
			t.Fatalf("%q: %q parses back to %q", s, set.String(), again.String())
		}
	})
}
