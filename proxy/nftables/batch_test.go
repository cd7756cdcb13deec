package nftables

import "testing"

func TestJoinElementAdds(t *testing.T) {
	in := `add table ip nodeagent
add element ip nodeagent hairpin { 10.244.1.5 . 10.244.1.5 }
add element ip nodeagent hairpin { 10.244.1.6 . 10.244.1.6 }
add element ip nodeagent svc-2 { 10.96.0.10 . tcp . 80 . 0 : 10.244.1.5 . 8080 }
add element ip nodeagent svc-2 { 10.96.0.10 . tcp . 80 . 1 : 10.244.1.6 . 8080 }
delete element ip nodeagent svc-2 { 10.96.0.11 . tcp . 80 . 0 }
add element ip nodeagent svc-2 { 10.96.0.11 . tcp . 80 . 0 : 10.244.1.7 . 8080 }
add element ip nodeagent svc-affinity { 10.96.0.12 . tcp . 80 : goto aff-x-c }
add element ip nodeagent svc-affinity { 10.96.0.13 . tcp . 80 : goto aff-y-c }
add element ip nodeagent other { 1.2.3.4 comment "a, b" }
add element ip nodeagent other { 1.2.3.5 }
add rule ip nodeagent services jump x
`
	want := `add table ip nodeagent
add element ip nodeagent hairpin { 10.244.1.5 . 10.244.1.5, 10.244.1.6 . 10.244.1.6 }
add element ip nodeagent svc-2 { 10.96.0.10 . tcp . 80 . 0 : 10.244.1.5 . 8080, 10.96.0.10 . tcp . 80 . 1 : 10.244.1.6 . 8080 }
delete element ip nodeagent svc-2 { 10.96.0.11 . tcp . 80 . 0 }
add element ip nodeagent svc-2 { 10.96.0.11 . tcp . 80 . 0 : 10.244.1.7 . 8080 }
add element ip nodeagent svc-affinity { 10.96.0.12 . tcp . 80 : goto aff-x-c, 10.96.0.13 . tcp . 80 : goto aff-y-c }
add element ip nodeagent other { 1.2.3.4 comment "a, b" }
add element ip nodeagent other { 1.2.3.5 }
add rule ip nodeagent services jump x
`
	got, n := joinElementAdds(in)
	if got != want || n != 3 {
		t.Fatalf("joined %d:\n%s\nwant 3:\n%s", n, got, want)
	}
	// Nothing to join: the same text.
	if got, n := joinElementAdds("add table ip nodeagent\n"); got != "add table ip nodeagent\n" || n != 0 {
		t.Fatalf("joined %d: %q", n, got)
	}
}
