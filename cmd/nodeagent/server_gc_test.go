package main

import (
	"flag"
	"io"
	"testing"
)

// --terminated-pod-gc-threshold as kube-controller-manager's: 12500 by
// default, and <= 0 turns the terminated pod collection off.
func TestTerminatedPodGCThresholdFlag(t *testing.T) {
	cases := []struct {
		args []string
		want int
	}{
		{nil, 12500},
		{[]string{"--terminated-pod-gc-threshold=3"}, 3},
		{[]string{"--terminated-pod-gc-threshold=0"}, -1},
		{[]string{"--terminated-pod-gc-threshold=-5"}, -1},
	}
	for _, tc := range cases {
		fs := flag.NewFlagSet("server", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		o := serverGCFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if got := o.podGCConfig().TerminatedPodThreshold; got != tc.want {
			t.Errorf("%v: threshold %d, want %d", tc.args, got, tc.want)
		}
	}
}
