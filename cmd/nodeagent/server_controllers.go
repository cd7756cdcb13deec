package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/nodeagent/nodeagent/controllers/certificates"
)

// knownControllers are the controllers the server runs, by
// kube-controller-manager's names (and its older short names, which
// --controllers also takes), and "scheduler" for the bundled scheduler,
// which kube runs as kube-scheduler. Every one is on by default.
var knownControllers = []struct{ name, alias string }{
	{"namespace-controller", "namespace"},
	{"scheduler", ""},
	{"node-lifecycle-controller", "nodelifecycle"},
	{"node-ipam-controller", "nodeipam"},
	{"endpointslice-controller", "endpointslice"},
	{"endpoints-controller", "endpoint"},
	{"endpointslice-mirroring-controller", "endpointslicemirroring"},
	{"persistentvolume-binder-controller", "persistentvolume-binder"},
	{"persistentvolume-attach-detach-controller", "attachdetach"},
	{"ephemeral-volume-controller", "ephemeral-volume"},
	{"serviceaccount-controller", "serviceaccount"},
	{"root-ca-certificate-publisher-controller", "root-ca-cert-publisher"},
	{"replicaset-controller", "replicaset"},
	{"deployment-controller", "deployment"},
	{"daemonset-controller", "daemonset"},
	{"statefulset-controller", "statefulset"},
	{"job-controller", "job"},
	{"cronjob-controller", "cronjob"},
	{"garbage-collector-controller", "garbagecollector"},
	{"pod-garbage-collector-controller", "podgc"},
	{"certificatesigningrequest-approving-controller", "csrapproving"},
	{"certificatesigningrequest-signing-controller", "csrsigning"},
}

// controllerSelection is --controllers, read as kube-controller-manager
// reads it: "*" turns on every controller that is on by default, "foo"
// turns foo on, "-foo" turns it off; the default is "*". A user who runs
// a real kube-controller-manager against the server turns the same
// controllers off here.
type controllerSelection struct {
	items []string
	// signingDuration is how long the CSR signer's certificates last.
	signingDuration time.Duration
}

func controllerFlags(fs *flag.FlagSet) *controllerSelection {
	c := &controllerSelection{items: []string{"*"}, signingDuration: certificates.DefaultDuration}
	fs.Func("cluster-signing-duration", "how long certificates issued through CSRs last unless a request asks for less (kube-controller-manager's flag; default 8760h)", func(v string) error {
		d, err := time.ParseDuration(v)
		if err == nil && d <= 0 {
			err = fmt.Errorf("must be positive")
		}
		c.signingDuration = d
		return err
	})
	fs.Func("controllers", "comma-separated controllers to run, as kube-controller-manager's flag: '*' all (the default), "+
		"'foo' runs foo, '-foo' does not; names: "+strings.Join(controllerNames(), ", "), func(v string) error {
		items := strings.Split(v, ",")
		if err := validControllerItems(items); err != nil {
			return err
		}
		c.items = items
		return nil
	})
	return c
}

func controllerNames() []string {
	out := make([]string, len(knownControllers))
	for i, k := range knownControllers {
		out[i] = k.name
	}
	return out
}

// canonicalController maps a name or an alias onto the name; ok is false
// for a name no controller has.
func canonicalController(name string) (string, bool) {
	for _, k := range knownControllers {
		if name == k.name || (k.alias != "" && name == k.alias) {
			return k.name, true
		}
	}
	return "", false
}

func validControllerItems(items []string) error {
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "*" {
			continue
		}
		if _, ok := canonicalController(strings.TrimPrefix(it, "-")); !ok {
			return fmt.Errorf("%q is not in the list of known controllers: %s", it, strings.Join(controllerNames(), ", "))
		}
	}
	return nil
}

// enabled says whether the selection runs the controller name (a
// canonical name): an explicit "name" or "-name" wins over "*".
func (c *controllerSelection) enabled(name string) bool {
	star := false
	for _, it := range c.items {
		it = strings.TrimSpace(it)
		switch {
		case it == "*":
			star = true
		case strings.HasPrefix(it, "-"):
			if n, _ := canonicalController(it[1:]); n == name {
				return false
			}
		default:
			if n, _ := canonicalController(it); n == name {
				return true
			}
		}
	}
	return star
}

// controllerSet gathers the Run functions of the selected controllers.
// A controller that is not selected is not built either, so it registers
// no informers.
type controllerSet struct {
	sel     *controllerSelection
	runs    []func(context.Context)
	started []string
	err     error // the first failed construction or unknown name
}

// add builds and keeps the controller name when it is selected. name must
// be one of knownControllers' names.
func (s *controllerSet) add(name string, build func() func(context.Context)) {
	s.addErr(name, func() (func(context.Context), error) { return build(), nil })
}

// addErr is add for a controller whose construction can fail.
func (s *controllerSet) addErr(name string, build func() (func(context.Context), error)) {
	if !slices.Contains(controllerNames(), name) {
		s.fail(fmt.Errorf("controller %q is not in knownControllers", name))
		return
	}
	if !s.sel.enabled(name) {
		return
	}
	run, err := build()
	if err != nil {
		s.fail(fmt.Errorf("%s: %w", name, err))
		return
	}
	s.runs = append(s.runs, run)
	s.started = append(s.started, name)
}

func (s *controllerSet) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

// nodeEventRecorder records events about Nodes under kube's node IPAM
// controller's component name.
func nodeEventRecorder(ctx context.Context, client kubernetes.Interface) record.EventRecorder {
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	return broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "node-ipam-controller"})
}
