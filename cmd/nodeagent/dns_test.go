package main

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestDNSServerIPAvoidsLoopback(t *testing.T) {
	ao := defaultAgentOptions()
	ao.cfg.NodeIP, ao.cfg.PodCIDR = "192.0.2.5", "10.244.3.0/24"
	if got := dnsServerIP(ao); got != "192.0.2.5" {
		t.Errorf("with a node address: %s", got)
	}
	ao.cfg.NodeIP = "127.0.0.1"
	if got := dnsServerIP(ao); got != "10.244.3.1" {
		t.Errorf("on a loopback-only node: %s, want the pod gateway", got)
	}
}

func TestDNSConfigAllowsPodsNodeAndLoopbackOnly(t *testing.T) {
	p := dnsParams{domain: "cluster.local", serviceIP: "10.96.0.10", serverIP: "192.0.2.5",
		clusterCIDR: netip.MustParsePrefix("10.244.0.0/16"), serviceRange: "10.96.0.0/12"}
	ip, cfg, err := dnsConfig(dnsOptions{}, p)
	if err != nil || ip.String() != "192.0.2.5" {
		t.Fatalf("%v %v", ip, err)
	}
	want := []string{"10.244.0.0/16", "192.0.2.5/32", "127.0.0.0/8", "::1/128"}
	var got []string
	for _, a := range cfg.Allowed {
		got = append(got, a.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("allowed %v, want %v", got, want)
	}
	if _, _, err := dnsConfig(dnsOptions{bindIP: "dns.example"}, p); err == nil || !strings.Contains(err.Error(), "--dns-bind-address") {
		t.Errorf("a name as bind address: %v", err)
	}
	p.serviceIP = "ten"
	if _, _, err := dnsConfig(dnsOptions{}, p); err == nil || !strings.Contains(err.Error(), "--cluster-dns") {
		t.Errorf("a bad --cluster-dns: %v", err)
	}
	if _, err := parsePrefixes("10.0.0.0/8,nope"); err == nil {
		t.Error("a bad --dns-allow-cidrs accepted")
	}
}
