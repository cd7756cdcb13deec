package podmasq

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"k8s.io/utils/clock"
	"sigs.k8s.io/knftables"
)

// Table is the nftables table this package owns (family inet).
const Table = "nodeagent-podmasq"

// chain is the table's one chain.
const chain = "postrouting"

// Resync is how often Run writes the rules again.
const Resync = 60 * time.Second

// New is the nftables Interface of the table in the caller's network
// namespace (it runs `nft`).
func New() (knftables.Interface, error) {
	nft, err := knftables.New(knftables.InetFamily, Table)
	if err != nil {
		return nil, fmt.Errorf("pod masquerade: nftables: %w", err)
	}
	return nft, nil
}

// Rules are the chain's rules for the cluster ranges, one per range.
func Rules(cluster []netip.Prefix) []string {
	var out []string
	for _, c := range cluster {
		c = c.Masked()
		family, multicast := "ip", "224.0.0.0/4"
		if c.Addr().Is6() {
			family, multicast = "ip6", "ff00::/8"
		}
		out = append(out, fmt.Sprintf("%s saddr %s %s daddr != { %s, %s } masquerade", family, c, family, c, multicast))
	}
	return out
}

// Sync makes the table, its chain and the rules for cluster in one
// transaction.
func Sync(ctx context.Context, nft knftables.Interface, cluster []netip.Prefix) error {
	tx := nft.NewTransaction()
	tx.Add(&knftables.Table{Comment: knftables.PtrTo("nodeagent: masquerade what pods send out of the cluster")})
	tx.Add(&knftables.Chain{Name: chain, Type: knftables.PtrTo(knftables.NATType),
		Hook: knftables.PtrTo(knftables.PostroutingHook), Priority: knftables.PtrTo(knftables.SNATPriority)})
	tx.Flush(&knftables.Chain{Name: chain})
	for _, r := range Rules(cluster) {
		tx.Add(&knftables.Rule{Chain: chain, Rule: r})
	}
	if err := nft.Run(ctx, tx); err != nil {
		return fmt.Errorf("pod masquerade: %w", err)
	}
	return nil
}

// Run syncs now and every Resync until ctx ends; the rules stay after
// (pods keep reaching out across an agent restart).
func Run(ctx context.Context, nft knftables.Interface, cluster []netip.Prefix, clk clock.WithTicker, log *slog.Logger) {
	tick := clk.NewTicker(Resync)
	defer tick.Stop()
	for said := false; ; {
		err := Sync(ctx, nft, cluster)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("pods' traffic out of the cluster may not be masqueraded", "err", err)
		case err == nil && !said:
			log.Info("masquerading what pods send out of the cluster", "cluster-cidr", fmt.Sprint(cluster), "nftables-table", "inet "+Table)
			said = true
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C():
		}
	}
}

// Cleanup deletes the table.
func Cleanup(ctx context.Context, nft knftables.Interface) error {
	tx := nft.NewTransaction()
	tx.Delete(&knftables.Table{})
	if err := nft.Run(ctx, tx); err != nil && !knftables.IsNotFound(err) {
		return fmt.Errorf("pod masquerade cleanup: %w", err)
	}
	return nil
}
