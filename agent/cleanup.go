package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netlink"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/cni"
	"github.com/nodeagent/nodeagent/cri"
)

// Cleanup removes everything an agent with this configuration made on the
// machine, whatever the API says: every sandbox and container in its
// containerd namespace with their CNI attachments (CNI DEL frees the
// addresses and the iptables rules), network namespaces, pod directories,
// logs and cgroups. It is `nodeagent agent --cleanup`.
func Cleanup(ctx context.Context, cfg Config, rt cri.Runtime, log *slog.Logger) error {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("agent configuration: %w", err)
	}
	a, err := newAgent(cfg, nil, rt, log, nil)
	if err != nil {
		return err
	}
	if err := a.setupNetwork(); err != nil {
		log.Warn("no CNI network; removing namespaces without CNI DEL", "err", err)
		a.net = noNetwork{}
	}
	sbs, err := rt.ListPodSandboxes(ctx, nil)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	var errs []error
	for _, sb := range sbs {
		if uid := sb.Labels[cri.LabelPodUID]; uid != "" && !seen[uid] {
			seen[uid] = true
			errs = append(errs, a.teardown(ctx, uid))
		}
	}
	for _, uid := range append(a.podCgroupUIDs(), a.netnsUIDs()...) {
		if !seen[uid] {
			seen[uid] = true
			errs = append(errs, a.teardown(ctx, uid), a.detachAttempts(ctx, uid))
		}
	}
	for _, uid := range a.podDirUIDs() { // volumes left mounted, say
		if !seen[uid] {
			seen[uid] = true
			errs = append(errs, a.teardown(ctx, uid))
		}
	}
	errs = append(errs, a.removeDefaultNetwork())
	removeNodeCgroups(cfg.NodeName)
	log.Info("agent cleanup done", "pods", len(seen))
	return errors.Join(errs...)
}

// noNetwork stands in when there is no CNI configuration to run DEL with.
type noNetwork struct{}

func (noNetwork) Add(context.Context, cni.Attachment) ([]netip.Prefix, error) {
	return nil, errors.New("no CNI network")
}

func (noNetwork) Del(context.Context, cni.Attachment) error { return nil }

func (noNetwork) Check(context.Context, cni.Attachment) error { return errors.New("no CNI network") }

// netnsUIDs lists the pods that still have a network namespace.
func (a *Agent) netnsUIDs() []string {
	entries, _ := os.ReadDir(a.cfg.NetNSDir)
	var out []string
	for _, e := range entries {
		if uid, ok := strings.CutPrefix(e.Name(), a.cfg.NetNSPrefix); ok {
			out = append(out, uid)
		}
	}
	return a.onlyValidUIDs(out, "network namespace")
}

// podDirUIDs lists the pods that still have a directory.
func (a *Agent) podDirUIDs() []string {
	entries, _ := os.ReadDir(a.podsDir())
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return a.onlyValidUIDs(out, "pod directory")
}

// validUID accepts what can be a pod's UID and a single path name: the
// API server's UUIDs, static pods' hashes (UUID-shaped), and the short
// ones of tests; never "", ".." or anything with a slash. Names read back
// from the machine (network namespaces, cgroups, pod directories) are
// checked before any path is built from them.
func validUID(uid string) error {
	if len(uid) == 0 || len(uid) > 128 || !isAlnum(uid[0]) {
		return fmt.Errorf("invalid pod uid %q", uid)
	}
	for i := 0; i < len(uid); i++ {
		if c := uid[i]; !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return fmt.Errorf("invalid pod uid %q", uid)
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// onlyValidUIDs drops (and logs) the names that are no pod uid.
func (a *Agent) onlyValidUIDs(uids []string, from string) []string {
	var out []string
	for _, uid := range uids {
		if err := validUID(uid); err != nil {
			a.log.Warn("ignoring a "+from+" that names no pod", "err", err)
			continue
		}
		out = append(out, uid)
	}
	return out
}

// detachAttempts runs CNI DEL for the first sandbox attempts of a pod whose
// sandboxes are gone (so their attempt numbers are unknown).
func (a *Agent) detachAttempts(ctx context.Context, uid string) error {
	var errs []error
	for attempt := 0; attempt < 5; attempt++ {
		errs = append(errs, a.detachNetwork(ctx, "", "", uid, attempt))
	}
	return errors.Join(errs...)
}

// removeDefaultNetwork removes the default conflist and its bridge, when
// the agent wrote them.
func (a *Agent) removeDefaultNetwork() error {
	path := filepath.Join(a.cfg.CNI.ConfDir, cni.DefaultConflistFile)
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	if link, err := netlink.LinkByName(cni.DefaultBridge); err == nil {
		if err := netlink.LinkDel(link); err != nil {
			return fmt.Errorf("remove bridge %s: %w", cni.DefaultBridge, err)
		}
	}
	return os.Remove(path)
}

// releaseOldSandboxes stops the pod's earlier sandboxes and detaches their
// network (CNI DEL while their namespace still exists, which is what lets
// the bridge plugin remove its masquerade rules) before a new sandbox is
// made. The stopped sandboxes stay, with their exited containers, for the
// restart counts.
func (a *Agent) releaseOldSandboxes(ctx context.Context, pod *corev1.Pod) error {
	uid := string(pod.UID)
	sbs, err := a.rt.ListPodSandboxes(ctx, map[string]string{cri.LabelPodUID: uid})
	if err != nil {
		return err
	}
	var errs []error
	for _, sb := range sbs {
		errs = append(errs, a.rt.StopPodSandbox(ctx, sb.ID))
		if !pod.Spec.HostNetwork {
			errs = append(errs, a.detachNetwork(ctx, pod.Namespace, pod.Name, uid, sandboxAttempt(sb)))
		}
	}
	return errors.Join(errs...)
}
