package containerd

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/cap"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/nodeagent/nodeagent/cri"
)

// shimGroupAnnotation makes the runc shim serve every task of one group
// from one process (containerd's runc.v2 shim groups by it): a sandbox's
// containers share their sandbox's shim, as under containerd's CRI, instead
// of one shim process each.
const shimGroupAnnotation = "io.containerd.runc.v2.group"

// sandboxSpec is the OCI spec of a sandbox: the pause binary on the shared
// read-only root, its own IPC and UTS namespaces, the pod's network
// namespace, and a cgroup under the pod's.
func (r *Runtime) sandboxSpec(id, rootfs string, cfg cri.SandboxConfig) []oci.SpecOpts {
	hostNet := cfg.HostNetwork || cfg.NetNSPath == ""
	opts := []oci.SpecOpts{
		oci.WithRootFSPath(rootfs),
		oci.WithRootFSReadonly(),
		oci.WithProcessArgs(append([]string{"/pause"}, r.cfg.PauseArgs...)...),
		oci.WithMounts([]specs.Mount{bindMount(r.cfg.PauseBinary, "/pause", true)}),
		oci.WithCgroup(path.Join(r.cgroupParent(cfg.CgroupParent), id)),
		oci.WithAnnotations(cfg.Annotations),
		oci.WithAnnotations(map[string]string{shimGroupAnnotation: id}),
		withOOMScoreAdj(sandboxOOMScoreAdj, r.oomFloor),
	}
	opts = append(opts, networkAndUTS(hostNet, cfg.NetNSPath, "", cfg.Hostname)...)
	if cfg.HostIPC {
		opts = append(opts, oci.WithHostNamespace(specs.IPCNamespace))
	}
	if cfg.HostPID {
		opts = append(opts, oci.WithHostNamespace(specs.PIDNamespace))
	}
	return opts
}

// cgroupParent is the sandbox's cgroup parent, or the configured default.
func (r *Runtime) cgroupParent(p string) string {
	if p == "" {
		return r.cfg.DefaultCgroupParent
	}
	return p
}

// networkAndUTS puts a process in the host's network and UTS namespaces, or
// in netns and a UTS namespace (new when utsPath is empty) named hostname.
func networkAndUTS(hostNet bool, netns, utsPath, hostname string) []oci.SpecOpts {
	if hostNet {
		return []oci.SpecOpts{
			oci.WithHostNamespace(specs.NetworkNamespace),
			oci.WithHostNamespace(specs.UTSNamespace),
		}
	}
	opts := []oci.SpecOpts{
		oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: netns}),
		oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.UTSNamespace, Path: utsPath}),
	}
	if hostname != "" {
		opts = append(opts, oci.WithHostname(hostname))
	}
	return opts
}

// sandboxInfo is what a container takes from its sandbox.
type sandboxInfo struct {
	id     string
	pid    uint32
	labels map[string]string // as stored
}

// containerSpec is the OCI spec of a container: the image's config with
// Kubernetes' command semantics, the sandbox's namespaces, mounts,
// resources and security context.
func containerSpec(id string, img imageConfig, sb sandboxInfo, cfg cri.ContainerConfig, oomFloor int) ([]oci.SpecOpts, error) {
	args := kubeArgs(img.entrypoint, img.cmd, cfg.Command, cfg.Args)
	if len(args) == 0 {
		return nil, fmt.Errorf("no command: neither the config nor the image %s sets one", cfg.Image)
	}
	opts := []oci.SpecOpts{
		oci.WithImageConfig(img.image),
		oci.WithProcessArgs(args...),
		oci.WithEnv(containerEnv(cfg)),
		oci.WithMounts(containerMounts(cfg.Mounts, sb.labels)),
		oci.WithCgroup(path.Join(sb.labels[labelCgroupParent], id)),
		oci.WithAnnotations(cfg.Annotations),
		oci.WithAnnotations(map[string]string{shimGroupAnnotation: sb.id}),
	}
	if cfg.WorkingDir != "" {
		opts = append(opts, oci.WithProcessCwd(cfg.WorkingDir))
	}
	if cfg.TTY {
		opts = append(opts, oci.WithTTY)
	}
	for _, d := range cfg.Devices {
		// The node at HostPath (stat'ed: its type, major and minor) is made
		// at ContainerPath, with a cgroup rule allowing Permissions.
		opts = append(opts, oci.WithDevices(d.HostPath, d.ContainerPath, d.Permissions))
	}
	opts = append(opts, sandboxNamespaces(sb)...)
	opts = append(opts, resourceOpts(cfg.Resources, oomFloor)...)
	return append(opts, securityOpts(cfg.Security)...), nil
}

// containerEnv is the config's environment, after TERM=xterm for a TTY
// (which the config may override).
func containerEnv(cfg cri.ContainerConfig) []string {
	if !cfg.TTY {
		return cfg.Env
	}
	return append([]string{"TERM=xterm"}, cfg.Env...)
}

// sandboxNamespaces joins the sandbox's network, IPC and UTS namespaces (or
// the host's, as the sandbox does); the PID namespace is the container's own
// unless the pod shares the host's.
func sandboxNamespaces(sb sandboxInfo) []oci.SpecOpts {
	proc := fmt.Sprintf("/proc/%d/ns/", sb.pid)
	hostNet := sb.labels[labelHostNetwork] == "true"
	opts := networkAndUTS(hostNet, sb.labels[labelNetNS], proc+"uts", sb.labels[labelHostname])
	if sb.labels[labelHostIPC] == "true" {
		opts = append(opts, oci.WithHostNamespace(specs.IPCNamespace))
	} else {
		opts = append(opts, oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.IPCNamespace, Path: proc + "ipc"}))
	}
	if sb.labels[labelHostPID] == "true" {
		opts = append(opts, oci.WithHostNamespace(specs.PIDNamespace))
	}
	return opts
}

// kubeArgs is a container's argv: Command replaces the image's ENTRYPOINT
// (and drops its CMD), Args replace its CMD.
func kubeArgs(entrypoint, cmd, command, args []string) []string {
	switch {
	case len(command) > 0:
		return slices.Concat(command, args)
	case len(args) > 0:
		return slices.Concat(entrypoint, args)
	}
	return slices.Concat(entrypoint, cmd)
}

// containerMounts are the config's bind mounts plus the sandbox's
// /etc/resolv.conf and /etc/hosts.
func containerMounts(mounts []cri.Mount, sandbox map[string]string) []specs.Mount {
	var out []specs.Mount
	for _, m := range mounts {
		out = append(out, bindMount(m.HostPath, m.ContainerPath, m.ReadOnly))
	}
	if p := sandbox[labelResolvConf]; p != "" {
		out = append(out, bindMount(p, "/etc/resolv.conf", false))
	}
	if p := sandbox[labelHosts]; p != "" {
		out = append(out, bindMount(p, "/etc/hosts", false))
	}
	return out
}

func bindMount(src, dst string, readOnly bool) specs.Mount {
	mode := "rw"
	if readOnly {
		mode = "ro"
	}
	return specs.Mount{Type: "bind", Source: src, Destination: dst, Options: []string{"rbind", "rprivate", mode}}
}

// sandboxOOMScoreAdj is the pause process's oom_score_adj, as under
// containerd's CRI: below every container's, so that the OOM killer takes
// a pod's containers before the process that holds its namespaces.
const sandboxOOMScoreAdj = -998

// resourceOpts sets the cgroup limits that are not zero, and the
// oom_score_adj when given (and not below floor).
func resourceOpts(res cri.Resources, floor int) []oci.SpecOpts {
	var opts []oci.SpecOpts
	if res.OOMScoreAdj != nil {
		opts = append(opts, withOOMScoreAdj(*res.OOMScoreAdj, floor))
	}
	if res.CPUShares > 0 {
		opts = append(opts, oci.WithCPUShares(res.CPUShares))
	}
	if res.CPUQuota > 0 {
		opts = append(opts, oci.WithCPUCFS(res.CPUQuota, res.CPUPeriod))
	}
	if res.MemoryLimit > 0 {
		opts = append(opts, oci.WithMemoryLimit(uint64(res.MemoryLimit)))
	}
	return opts
}

// securityOpts applies a security context. User and group override the
// image's; without Privileged, capabilities follow capabilities().
func securityOpts(sc cri.SecurityContext) []oci.SpecOpts {
	var opts []oci.SpecOpts
	if sc.RunAsUser != nil {
		opts = append(opts, oci.WithUserID(uint32(*sc.RunAsUser)))
	}
	if sc.RunAsGroup != nil || len(sc.SupplementalGroups) > 0 {
		opts = append(opts, withGroups(sc.RunAsGroup, sc.SupplementalGroups))
	}
	if sc.Privileged {
		opts = append(opts, oci.WithPrivileged, oci.WithAllDevicesAllowed, oci.WithHostDevices)
	} else if len(sc.CapAdd) > 0 || len(sc.CapDrop) > 0 {
		opts = append(opts, withCapabilities(sc.CapAdd, sc.CapDrop))
	}
	if sc.ReadOnlyRootFS {
		opts = append(opts, oci.WithRootFSReadonly())
	}
	if sc.NoNewPrivileges {
		return append(opts, oci.WithNoNewPrivileges)
	}
	return append(opts, oci.WithNewPrivileges)
}

// withGroups sets the primary group (when gid is not nil) and appends
// supplemental groups.
func withGroups(gid *int64, groups []int64) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if gid != nil {
			s.Process.User.GID = uint32(*gid)
		}
		for _, g := range groups {
			if !slices.Contains(s.Process.User.AdditionalGids, uint32(g)) {
				s.Process.User.AdditionalGids = append(s.Process.User.AdditionalGids, uint32(g))
			}
		}
		return nil
	}
}

// withCapabilities sets the capability sets from the spec's bounding set
// with add and drop applied.
func withCapabilities(add, drop []string) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		var base []string
		if s.Process != nil && s.Process.Capabilities != nil {
			base = s.Process.Capabilities.Bounding
		}
		return oci.WithCapabilities(capabilities(base, cap.Known(), add, drop))(ctx, c, ctr, s)
	}
}

// capabilities applies Kubernetes' add and drop lists to base, as
// containerd's CRI does: "ALL" in add starts from every known capability,
// "ALL" in drop from none; then single names are added, then dropped.
// Names may come with or without the "CAP_" prefix, in any case.
func capabilities(base, known, add, drop []string) []string {
	add, drop = normalizeCaps(add), normalizeCaps(drop)
	caps := slices.Clone(base)
	if slices.Contains(add, "CAP_ALL") {
		caps = slices.Clone(known)
	}
	if slices.Contains(drop, "CAP_ALL") {
		caps = nil
	}
	for _, c := range add {
		if c != "CAP_ALL" && !slices.Contains(caps, c) {
			caps = append(caps, c)
		}
	}
	return slices.DeleteFunc(caps, func(c string) bool { return slices.Contains(drop, c) })
}

func normalizeCaps(in []string) []string {
	out := make([]string, 0, len(in))
	for _, c := range in {
		c = strings.ToUpper(c)
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		out = append(out, c)
	}
	return out
}
