package nftables

import (
	"context"
	"fmt"
	"os/exec"

	"sigs.k8s.io/knftables"

	"github.com/nodeagent/nodeagent/internal/nsutil"
)

// NewInterface returns the real knftables Interface for the table ip
// nodeagent in the caller's network namespace (it runs `nft`), with each
// run of element adds to one set or map sent as one command.
func NewInterface() (knftables.Interface, error) {
	nft, err := knftables.New(Family, TableName)
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	path, err := exec.LookPath("nft")
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	return &batchingInterface{Interface: nft, nft: path}, nil
}

// concurrentRunner is an Interface whose Run may be called by several
// goroutines at once, each running an nft of its own: ours are (knftables's
// own Interface takes a lock around each run; its fake is not meant for
// it), so syncFresh runs its parts side by side only on them.
type concurrentRunner interface{ runsConcurrently() }

func (*batchingInterface) runsConcurrently() {}
func (*netnsInterface) runsConcurrently()    {}

// NewInterfaceInNetNS returns a knftables Interface whose every `nft` runs
// inside the network namespace pinned at path: each call forks nft from a
// throwaway OS thread that has entered it (nsutil.Do), so no long-lived
// goroutine ever switches namespaces.
func NewInterfaceInNetNS(path string) (knftables.Interface, error) {
	var inner knftables.Interface
	err := nsutil.Do(path, func() error {
		var err error
		inner, err = NewInterface()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("nftables in %s: %w", path, err)
	}
	return &netnsInterface{inner: inner, path: path}, nil
}

// netnsInterface runs an Interface's commands inside a network namespace.
type netnsInterface struct {
	inner knftables.Interface
	path  string
}

var _ knftables.Interface = (*netnsInterface)(nil)

func (n *netnsInterface) NewTransaction() *knftables.Transaction { return n.inner.NewTransaction() }

func (n *netnsInterface) Run(ctx context.Context, tx *knftables.Transaction) error {
	return nsutil.Do(n.path, func() error { return n.inner.Run(ctx, tx) })
}

func (n *netnsInterface) Check(ctx context.Context, tx *knftables.Transaction) error {
	return nsutil.Do(n.path, func() error { return n.inner.Check(ctx, tx) })
}

func (n *netnsInterface) ListAll(ctx context.Context) (map[string][]string, error) {
	return inNetNS(n.path, func() (map[string][]string, error) { return n.inner.ListAll(ctx) })
}

func (n *netnsInterface) List(ctx context.Context, objectType string) ([]string, error) {
	return inNetNS(n.path, func() ([]string, error) { return n.inner.List(ctx, objectType) })
}

func (n *netnsInterface) ListRules(ctx context.Context, chain string) ([]*knftables.Rule, error) {
	return inNetNS(n.path, func() ([]*knftables.Rule, error) { return n.inner.ListRules(ctx, chain) })
}

func (n *netnsInterface) ListElements(ctx context.Context, objectType, name string) ([]*knftables.Element, error) {
	return inNetNS(n.path, func() ([]*knftables.Element, error) { return n.inner.ListElements(ctx, objectType, name) })
}

func (n *netnsInterface) ListCounters(ctx context.Context) ([]*knftables.Counter, error) {
	return inNetNS(n.path, func() ([]*knftables.Counter, error) { return n.inner.ListCounters(ctx) })
}

func inNetNS[T any](path string, fn func() (T, error)) (T, error) {
	var v T
	err := nsutil.Do(path, func() error {
		var err error
		v, err = fn()
		return err
	})
	return v, err
}
