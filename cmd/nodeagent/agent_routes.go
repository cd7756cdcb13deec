package main

import (
	"context"
	"fmt"
	"log/slog"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/noderoutes"
)

// validNodeRoutes refuses a --node-routes value other than host-gw, vxlan
// or none.
func validNodeRoutes(v string) error {
	if v != "host-gw" && v != "vxlan" && v != "none" {
		return fmt.Errorf("--node-routes: %q is neither host-gw, vxlan nor none", v)
	}
	return nil
}

// runNodeRoutes keeps this node's routes to the other nodes' pod ranges
// (noderoutes) in mode (host-gw or vxlan). Listing every Node needs more
// than a node's credentials (kube's Node authorizer lets a node read its
// own Node alone): an identity that may not is said once, and the routes
// are left alone. The vxlan mode publishes this node's VTEP MAC on its own
// Node with the node's credentials (node).
func runNodeRoutes(ctx context.Context, log *slog.Logger, client, node kubernetes.Interface, mode, self string) {
	if _, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		if apierrors.IsForbidden(err) {
			log.Warn("no routes to other nodes' pods: this identity may not list Nodes; give the agent --proxy-kubeconfig (system:kube-proxy, e.g. from `nodeagent kubeconfig kube-proxy`) or --node-routes=none", "err", err)
			return
		}
		log.Warn("listing Nodes for the node routes", "err", err) // the informer retries
	}
	k := noderoutes.Netlink{}
	opt := noderoutes.WithTunnel(k)
	if mode == "vxlan" {
		opt = noderoutes.WithVXLAN(k, noderoutes.NodeAnnotator{Client: node, Node: self})
	}
	c, err := noderoutes.New(client, self, k, log, clock.RealClock{}, opt)
	if err != nil {
		log.Error("node routes not started", "err", err)
		return
	}
	log.Info("node routes", "mode", mode)
	c.Run(ctx)
}

// cleanupNodeRoutes removes the node routes and the VXLAN device
// (`nodeagent agent --cleanup`), whatever the mode: they are ours by their
// protocol number and name, and a mode used before may have left them.
func cleanupNodeRoutes() error {
	return noderoutes.Cleanup(noderoutes.Netlink{}, noderoutes.Netlink{})
}
