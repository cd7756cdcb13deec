package main

import (
	"context"
	"log/slog"
	"net/netip"
	"path/filepath"

	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/cni"
	"github.com/nodeagent/nodeagent/podmasq"
)

// runPodMasquerade keeps the masquerade of what pods send out of the
// cluster range (podmasq): the default CNI network does not masquerade, so
// pods on other nodes see the pod's own address.
func runPodMasquerade(ctx context.Context, log *slog.Logger, cluster netip.Prefix, confDir string) {
	if old, err := cni.MasqueradesAll(confDir); err == nil && old {
		log.Warn("the CNI network is a default one from an older nodeagent whose bridge masquerades all that leaves the node's pod range: pods on other nodes see the node's address; drain the node, remove the file and restart the agent to write today's",
			"file", filepath.Join(confDir, cni.DefaultConflistFile))
	}
	if !cluster.IsValid() {
		log.Error("pods' traffic out of the cluster is not masqueraded: no --cluster-cidr")
		return
	}
	nft, err := podmasq.New()
	if err != nil {
		log.Error("pods' traffic out of the cluster is not masqueraded", "err", err)
		return
	}
	podmasq.Run(ctx, nft, []netip.Prefix{cluster}, clock.RealClock{}, log)
}

// cleanupPodMasquerade deletes podmasq's table (`nodeagent agent
// --cleanup`); with no nft there is none of ours.
func cleanupPodMasquerade(ctx context.Context) error {
	nft, err := podmasq.New()
	if err != nil {
		return nil
	}
	return podmasq.Cleanup(ctx, nft)
}
