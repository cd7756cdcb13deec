package agent

import (
	"fmt"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/cri"
)

// resolvConf renders a pod's /etc/resolv.conf for its dnsPolicy, as the
// kubelet does: ClusterFirst uses the cluster DNS with the pod's search
// path; Default uses the node's file; None uses only dnsConfig; dnsConfig
// is merged into the others.
func resolvConf(pod *corev1.Pod, clusterDNS, domain string, nodeResolv string) string {
	var servers, search, options []string
	policy := pod.Spec.DNSPolicy
	if policy == corev1.DNSClusterFirstWithHostNet || (policy == corev1.DNSClusterFirst && !pod.Spec.HostNetwork) || policy == "" {
		servers = []string{clusterDNS}
		search = []string{pod.Namespace + ".svc." + domain, "svc." + domain, domain}
		options = []string{"ndots:5"}
	} else if policy != corev1.DNSNone {
		servers, search, options = parseResolv(nodeResolv)
	}
	if c := pod.Spec.DNSConfig; c != nil {
		servers = appendNew(servers, c.Nameservers...)
		search = appendNew(search, c.Searches...)
		for _, o := range c.Options {
			opt := o.Name
			if o.Value != nil {
				opt += ":" + *o.Value
			}
			options = appendNew(options, opt)
		}
	}
	var b strings.Builder
	if len(search) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(search, " "))
	}
	for _, s := range servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	if len(options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(options, " "))
	}
	return b.String()
}

func parseResolv(data string) (servers, search, options []string) {
	for _, line := range strings.Split(data, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "nameserver":
			servers = append(servers, f[1])
		case "search":
			search = append(search, f[1:]...)
		case "options":
			options = append(options, f[1:]...)
		}
	}
	return servers, search, options
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		found := false
		for _, x := range list {
			found = found || x == it
		}
		if !found {
			list = append(list, it)
		}
	}
	return list
}

// hostsFile renders a pod's /etc/hosts: localhost, the pod's own address
// and name, and spec.hostAliases.
func hostsFile(pod *corev1.Pod, ips []string) string {
	var b strings.Builder
	b.WriteString("# Kubernetes-managed hosts file (nodeagent).\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	name := podHostname(pod)
	if pod.Spec.Subdomain != "" {
		name = fmt.Sprintf("%s.%s.%s.svc.cluster.local\t%s", name, pod.Spec.Subdomain, pod.Namespace, name)
	}
	for _, ip := range ips {
		fmt.Fprintf(&b, "%s\t%s\n", ip, name)
	}
	for _, h := range pod.Spec.HostAliases {
		fmt.Fprintf(&b, "%s\t%s\n", h.IP, strings.Join(h.Hostnames, "\t"))
	}
	return b.String()
}

// writeDNSFiles writes the sandbox's resolv.conf and hosts.
func (a *Agent) writeDNSFiles(pod *corev1.Pod, cfg cri.SandboxConfig, ips []string) error {
	node, _ := os.ReadFile("/etc/resolv.conf")
	if err := os.WriteFile(cfg.ResolvConf, []byte(resolvConf(pod, a.cfg.ClusterDNS, a.cfg.ClusterDomain, string(node))), 0o644); err != nil {
		return err
	}
	if pod.Spec.HostNetwork {
		hosts, err := os.ReadFile("/etc/hosts")
		if err != nil {
			return err
		}
		return os.WriteFile(cfg.Hosts, hosts, 0o644)
	}
	return os.WriteFile(cfg.Hosts, []byte(hostsFile(pod, ips)), 0o644)
}
