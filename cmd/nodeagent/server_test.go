package main

import (
	"testing"

	"k8s.io/client-go/rest"
)

// TestControllerRates: the bundled controllers and scheduler get kube's
// default client rates; with client-go's 5 QPS the scheduler bound 2.5
// pods a second, and 30 pods created at once waited 10 s for it (the
// agent bench).
func TestControllerRates(t *testing.T) {
	base := &rest.Config{Host: "https://127.0.0.1:6443"}
	ctrl, sched := controllerRates(base)
	if ctrl.QPS != 20 || ctrl.Burst != 30 || sched.QPS != 50 || sched.Burst != 100 {
		t.Fatalf("controllers %v/%d, scheduler %v/%d", ctrl.QPS, ctrl.Burst, sched.QPS, sched.Burst)
	}
	if base.QPS != 0 || ctrl.Host != base.Host {
		t.Fatal("the loopback config was changed, or not copied")
	}
}
