package apiauth

import (
	"fmt"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"
)

func TestTTLCacheExpiresAndStaysBounded(t *testing.T) {
	clk := testingclock.NewFakePassiveClock(time.Unix(1000, 0))
	c := newTTLCache[string, int](clk, 3)
	c.set("a", 1, time.Minute)
	clk.SetTime(clk.Now().Add(59 * time.Second))
	if v, ok := c.get("a"); !ok || v != 1 {
		t.Fatalf("a before expiry: %v %v", v, ok)
	}
	clk.SetTime(clk.Now().Add(time.Second))
	if _, ok := c.get("a"); ok {
		t.Fatal("a after expiry")
	}
	for i := 0; i < 100; i++ {
		c.set(fmt.Sprint(i), i, time.Hour)
		if n := c.len(); n > 3 {
			t.Fatalf("%d entries in a cache of 3", n)
		}
	}
	if v, ok := c.get("99"); !ok || v != 99 {
		t.Fatalf("the newest entry: %v %v", v, ok)
	}
}
