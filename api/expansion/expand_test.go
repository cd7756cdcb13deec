package expansion

import "testing"

func TestExpand(t *testing.T) {
	vars := map[string]string{"POD": "web-0", "EMPTY": ""}
	for in, want := range map[string]string{
		"logs/$(POD)":      "logs/web-0",
		"$(EMPTY)x":        "x",
		"$(MISSING)/a":     "$(MISSING)/a",
		"$$(POD)":          "$(POD)",
		"a$(POD":           "a$(POD",
		"cost$":            "cost$",
		"$x$(POD)$(POD)/b": "$xweb-0web-0/b",
	} {
		if got := Expand(in, vars); got != want {
			t.Errorf("Expand(%q) = %q, want %q", in, got, want)
		}
	}
}
