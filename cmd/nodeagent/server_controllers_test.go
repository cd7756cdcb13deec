package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
)

func TestControllerSelection(t *testing.T) {
	tests := []struct {
		flag    string
		on, off []string
	}{
		{"", controllerNames(), nil},
		{"*", controllerNames(), nil},
		{"*,-deployment-controller,-replicaset", []string{"scheduler", "job-controller"}, []string{"deployment-controller", "replicaset-controller"}},
		{"deployment,scheduler", []string{"deployment-controller", "scheduler"}, []string{"replicaset-controller", "namespace-controller"}},
		{"-scheduler,*", []string{"namespace-controller"}, []string{"scheduler"}},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("server", flag.ContinueOnError)
		sel := controllerFlags(fs)
		args := []string{}
		if tt.flag != "" {
			args = append(args, "--controllers="+tt.flag)
		}
		if err := fs.Parse(args); err != nil {
			t.Fatalf("%q: %v", tt.flag, err)
		}
		for _, n := range tt.on {
			if !sel.enabled(n) {
				t.Errorf("--controllers=%q: %s off", tt.flag, n)
			}
		}
		for _, n := range tt.off {
			if sel.enabled(n) {
				t.Errorf("--controllers=%q: %s on", tt.flag, n)
			}
		}
	}
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	controllerFlags(fs)
	err := fs.Parse([]string{"--controllers=*,-deploymnet"})
	if err == nil || !strings.Contains(err.Error(), `"-deploymnet" is not in the list of known controllers`) {
		t.Errorf("a misspelt controller: %v", err)
	}
}

// Every controller the server builds is one --controllers names, added
// once; with a selection, only the selected ones are built.
func TestEveryControllerIsSelectable(t *testing.T) {
	build := func(sel *controllerSelection) *controllerSet {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		client := fake.NewClientset()
		factory := informers.NewSharedInformerFactory(client, 0)
		env := &environment{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		set := &controllerSet{sel: sel}
		startVolumeControllers(ctx, set, client, factory, []byte("-----BEGIN CERTIFICATE-----\n"), env)
		startWorkloadControllers(ctx, set, client, factory, env)
		startSetControllers(ctx, set, client, factory, env)
		startBatchControllers(ctx, set, client, factory, env)
		gcControllers(ctx, set, &rest.Config{Host: "https://127.0.0.1:1"}, client, factory, env, &gcOptions{})
		endpointsControllers(set, client, factory, env)
		certificateControllers(set, client, factory, nil, 0, env)
		return set
	}
	all := build(&controllerSelection{items: []string{"*"}})
	if all.err != nil {
		t.Fatal(all.err)
	}
	// startControllers adds these five itself.
	got := append(slices.Clone(all.started), "namespace-controller", "scheduler", "node-lifecycle-controller", "node-ipam-controller", "endpointslice-controller")
	slices.Sort(got)
	want := controllerNames()
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("built %v\nknown %v", got, want)
	}
	some := build(&controllerSelection{items: []string{"job", "garbagecollector"}})
	if some.err != nil || !slices.Equal(some.started, []string{"job-controller", "garbage-collector-controller"}) {
		t.Errorf("--controllers=job,garbagecollector built %v (%v)", some.started, some.err)
	}
}

func TestClusterSigningDuration(t *testing.T) {
	parse := func(args ...string) (*controllerSelection, error) {
		fs := flag.NewFlagSet("server", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		sel := controllerFlags(fs)
		return sel, fs.Parse(args)
	}
	if sel, err := parse(); err != nil || sel.signingDuration != 365*24*time.Hour {
		t.Errorf("default: %v %v", sel.signingDuration, err)
	}
	if sel, err := parse("--cluster-signing-duration=2h"); err != nil || sel.signingDuration != 2*time.Hour {
		t.Errorf("2h: %v %v", sel.signingDuration, err)
	}
	for _, bad := range []string{"0s", "-1h", "a year"} {
		if _, err := parse("--cluster-signing-duration=" + bad); err == nil {
			t.Errorf("--cluster-signing-duration=%s accepted", bad)
		}
	}
}
