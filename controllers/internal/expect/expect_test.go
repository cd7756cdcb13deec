package expect

import (
	"testing"
	"time"
)

// Pending creates and deletes hold a key back until each is seen (a delete
// counted once however often it is seen) or until they expire; other keys
// and forgotten keys are free.
func TestExpectations(t *testing.T) {
	now := time.Unix(0, 0)
	e := New[string](func() time.Time { return now })
	if !e.Satisfied("rs") {
		t.Fatal("nothing expected, yet held back")
	}
	e.Expect("rs", 2, []string{"p1", "p2"})
	steps := []struct {
		do   func()
		want bool
	}{
		{func() { e.Created("rs") }, false},
		{func() { e.Created("rs") }, false},
		{func() { e.Deleted("rs", "p1"); e.Deleted("rs", "p1") }, false},
		{func() { e.Deleted("other", "p2") }, false},
		{func() { e.Deleted("rs", "p2") }, true},
	}
	for i, s := range steps {
		s.do()
		if got := e.Satisfied("rs"); got != s.want {
			t.Fatalf("step %d: satisfied %v, want %v", i, got, s.want)
		}
	}

	e.Expect("rs", 1, nil)
	now = now.Add(Timeout)
	if e.Satisfied("rs") {
		t.Fatal("satisfied before the timeout")
	}
	now = now.Add(time.Second)
	if !e.Satisfied("rs") {
		t.Fatal("still held back after the timeout")
	}
	e.Expect("rs", 1, nil)
	e.Forget("rs")
	if !e.Satisfied("rs") {
		t.Fatal("held back after Forget")
	}
}
