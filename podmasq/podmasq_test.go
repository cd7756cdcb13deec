package podmasq

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"sigs.k8s.io/knftables"
)

func TestSyncWritesOneRulePerClusterRange(t *testing.T) {
	nft := knftables.NewFake(knftables.InetFamily, Table)
	cluster := []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16"), netip.MustParsePrefix("fd00:10:244::/56")}
	ctx := context.Background()
	for range 2 { // again: the same, not twice the rules
		if err := Sync(ctx, nft, cluster); err != nil {
			t.Fatal(err)
		}
	}
	var rules []string
	for _, l := range strings.Split(nft.Dump(), "\n") {
		if strings.HasPrefix(l, "add rule") {
			rules = append(rules, l)
		}
	}
	want := []string{
		"add rule inet nodeagent-podmasq postrouting ip saddr 10.244.0.0/16 ip daddr != { 10.244.0.0/16, 224.0.0.0/4 } masquerade",
		"add rule inet nodeagent-podmasq postrouting ip6 saddr fd00:10:244::/56 ip6 daddr != { fd00:10:244::/56, ff00::/8 } masquerade",
	}
	if strings.Join(rules, "\n") != strings.Join(want, "\n") {
		t.Errorf("rules:\n%s\nwant:\n%s", strings.Join(rules, "\n"), strings.Join(want, "\n"))
	}
	if ch := nft.Table.Chains[chain]; ch == nil || *ch.Hook != knftables.PostroutingHook || *ch.Type != knftables.NATType {
		t.Errorf("chain %+v", ch)
	}
}

func TestCleanupDeletesTheTableAndToleratesNone(t *testing.T) {
	nft := knftables.NewFake(knftables.InetFamily, Table)
	ctx := context.Background()
	if err := Sync(ctx, nft, []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := Cleanup(ctx, nft); err != nil {
			t.Fatal(err)
		}
	}
	if nft.Table != nil {
		t.Errorf("table left: %s", nft.Dump())
	}
}
