package agent

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// adoptNodePodCIDR waits until the Node has spec.podCIDR (the server's
// node IPAM gives it, as kube-controller-manager's does for a kubelet run
// without --pod-cidr), takes it as the pod range and sets up the default
// network with it. It says every 30 s that it is still waiting.
func (a *Agent) adoptNodePodCIDR(ctx context.Context) error {
	a.log.Info("waiting for the node's pod CIDR (no --pod-cidr)")
	last := time.Now()
	var cidr string
	err := wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		n, err := a.client.CoreV1().Nodes().Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
		if err == nil && n.Spec.PodCIDR != "" {
			cidr = n.Spec.PodCIDR
			return true, nil
		}
		if time.Since(last) > 30*time.Second {
			a.log.Warn("still no pod CIDR on the node: is the server's node-ipam-controller running?", "err", err)
			last = time.Now()
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the node's pod CIDR: %w", err)
	}
	p, err := netip.ParsePrefix(cidr)
	if err != nil || p.Masked() != p {
		return fmt.Errorf("the node's spec.podCIDR %q is not a network's CIDR", cidr)
	}
	a.cfg.PodCIDR = cidr
	a.log.Info("pod CIDR from the node", "podCIDR", cidr)
	return a.setupNetwork()
}
