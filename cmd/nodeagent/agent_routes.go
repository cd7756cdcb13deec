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

// validNodeRoutes refuses a --node-routes value other than host-gw or none.
func validNodeRoutes(v string) error {
	if v != "host-gw" && v != "none" {
		return fmt.Errorf("--node-routes: %q is neither host-gw nor none", v)
	}
	return nil
}

// runNodeRoutes keeps this node's routes to the other nodes' pod ranges
// (noderoutes). Listing every Node needs more than a node's credentials
// (kube's Node authorizer lets a node read its own Node alone): an
// identity that may not is said once, and the routes are left alone.
func runNodeRoutes(ctx context.Context, log *slog.Logger, client kubernetes.Interface, self string) {
	if _, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		if apierrors.IsForbidden(err) {
			log.Warn("no routes to other nodes' pods: this identity may not list Nodes; give the agent --proxy-kubeconfig (system:kube-proxy, e.g. from `nodeagent kubeconfig kube-proxy`) or --node-routes=none", "err", err)
			return
		}
		log.Warn("listing Nodes for the node routes", "err", err) // the informer retries
	}
	c, err := noderoutes.New(client, self, noderoutes.Netlink{}, log, clock.RealClock{})
	if err != nil {
		log.Error("node routes not started", "err", err)
		return
	}
	c.Run(ctx)
}

// cleanupNodeRoutes removes the node routes (`nodeagent agent --cleanup`);
// with --node-routes=none there are none of ours to remove.
func cleanupNodeRoutes(mode string) error {
	if mode == "none" {
		return nil
	}
	return noderoutes.Cleanup(noderoutes.Netlink{})
}
