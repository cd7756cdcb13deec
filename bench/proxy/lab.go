package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/nodeagent/nodeagent/internal/nsutil"
	"github.com/nodeagent/nodeagent/lab"
)

// The lab's pod: one namespace behind a veth, with listeners that are the
// first Service's endpoints.
const (
	nodeIP     = "10.244.0.1"
	podIP      = "10.244.0.2"
	listenPort = 8080
)

// benchLab is a lab node plus one pod namespace with three listeners.
type benchLab struct {
	node      *lab.Node
	listeners []net.Listener
}

func newBenchLab() (*benchLab, error) {
	b := make([]byte, 4)
	rand.Read(b)
	node, err := lab.Up(lab.DefaultConfig("bench-proxy-" + hex.EncodeToString(b)))
	if err != nil {
		return nil, err
	}
	l := &benchLab{node: node}
	if err := l.wirePod(); err != nil {
		l.down()
		return nil, err
	}
	return l, nil
}

// down stops the listeners and removes the lab (its rules go with its
// namespace).
func (l *benchLab) down() {
	for _, ln := range l.listeners {
		ln.Close()
	}
	l.node.Down()
}

func (l *benchLab) endpointAddr() string { return net.JoinHostPort(podIP, strconv.Itoa(listenPort)) }

// wirePod makes the pod namespace, a veth between it and the node, and the
// listeners.
func (l *benchLab) wirePod() error {
	podPath, err := l.node.NewMemberNetNS("pod")
	if err != nil {
		return err
	}
	if err := l.veth(podPath); err != nil {
		return err
	}
	return nsutil.Do(podPath, func() error {
		for p := listenPort; p < listenPort+3; p++ {
			ln, err := net.Listen("tcp", net.JoinHostPort(podIP, strconv.Itoa(p)))
			if err != nil {
				return err
			}
			l.listeners = append(l.listeners, ln)
			go acceptAll(ln)
		}
		return nil
	})
}

func acceptAll(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

// veth links the node and the pod namespace: bp-node (nodeIP/24) in the
// node, bp-pod (podIP/24) in the pod.
func (l *benchLab) veth(podPath string) error {
	nodeNS, err := netns.GetFromPath(l.node.NetNSPath())
	if err != nil {
		return err
	}
	defer nodeNS.Close()
	podNS, err := netns.GetFromPath(podPath)
	if err != nil {
		return err
	}
	defer podNS.Close()
	hn, err := netlink.NewHandleAt(nodeNS)
	if err != nil {
		return err
	}
	defer hn.Close()
	hp, err := netlink.NewHandleAt(podNS)
	if err != nil {
		return err
	}
	defer hp.Close()
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "bp-node"}, PeerName: "bp-pod", PeerNamespace: netlink.NsFd(podNS)}
	if err := hn.LinkAdd(veth); err != nil {
		return fmt.Errorf("add veth: %w", err)
	}
	return errors.Join(up(hn, "bp-node", nodeIP), up(hp, "bp-pod", podIP), up(hp, "lo", ""))
}

func up(h *netlink.Handle, name, ip string) error {
	link, err := h.LinkByName(name)
	if err != nil {
		return err
	}
	if ip != "" {
		addr, _ := netlink.ParseAddr(ip + "/24")
		if err := h.AddrAdd(link, addr); err != nil {
			return fmt.Errorf("address %s on %s: %w", ip, name, err)
		}
	}
	return h.LinkSetUp(link)
}

// countRules counts the mode's rules and elements in the lab (off the
// measured path: listing a large ruleset takes seconds).
func (l *benchLab) countRules(mode string) int {
	var cmd *exec.Cmd
	if mode == "nftables" {
		cmd = exec.Command("nft", "list", "table", "ip", "nodeagent")
	} else {
		cmd = exec.Command("iptables-save")
	}
	var out strings.Builder
	cmd.Stdout = &out
	if err := l.node.Run(cmd); err != nil {
		return -1
	}
	n := 0
	for _, line := range strings.Split(out.String(), "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "-A ") || (mode == "nftables" && t != "" && !strings.HasPrefix(t, "}")) {
			n++
		}
	}
	return n
}
