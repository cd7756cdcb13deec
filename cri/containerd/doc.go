// Package containerd implements cri.Runtime over containerd's own API (not
// its CRI plugin), in one containerd namespace (Config.Namespace, default
// "nodeagent"). It keeps no state of its own: a restarted agent lists what
// containerd has and adopts it.
//
// # What it makes in containerd
//
// A sandbox is a containerd container with no image and no snapshot. Its
// root is <StateDir>/pause-rootfs, a directory of empty mount points shared
// read-only by every sandbox, with the pause binary (Config.PauseBinary, a
// static executable: nodeagent-pause, built from cri/pause alone, or
// nodeagent itself) bind-mounted read-only at /pause and run as
// `/pause pause`. Its task holds the pod's IPC and UTS
// namespaces (hostname from the config) and joins the network namespace at
// SandboxConfig.NetNSPath, or the host's. It has its own PID namespace, as
// every container does unless the pod shares the host's. Its cgroup is
// <CgroupParent>/<id> (cgroupfs paths; Config.DefaultCgroupParent when the
// pod has none). A bind-mounted binary was chosen over running the pause
// process on the host's root: nothing of the host is visible in a sandbox.
//
// A container is a containerd container made from its image, with an
// overlayfs snapshot named after the container ID. Its OCI spec is the
// image config with Kubernetes' rules (Command replaces ENTRYPOINT, Args
// replace CMD), the config's env, mounts, resources and security context,
// the sandbox's /etc/resolv.conf and /etc/hosts, and the sandbox's network,
// IPC (/proc/<pause pid>/ns/ipc) and UTS namespaces. Its cgroup is
// <CgroupParent>/<container id>, beside the pause process's. Its task is
// made by StartContainer and kept after it exits, so that containerd keeps
// the exit status and time, until RemoveContainer deletes task, container
// and snapshot. runc keeps its state under <RuncRoot>/<namespace>.
//
// A sandbox and its containers share one runc shim process (the OCI
// annotation io.containerd.runc.v2.group is the sandbox ID, as the CRI
// plugin groups them), not one shim each; the shim goes when the last of
// their tasks is deleted.
//
// IDs are 64 random hex digits, as Kubernetes runtimes use.
//
// # Labels
//
// Everything List* report is in containerd container labels, so that it
// survives the agent:
//
//   - public: the config's labels, cri.LabelKind ("sandbox" or
//     "container"), cri.LabelContainerName, and the pod identity labels
//     (cri.LabelPodUID, ...) that a container copies from its sandbox;
//   - io.nodeagent.cri.*: what the runtime needs later, e.g. the sandbox's
//     name, netns path, hostname, cgroup parent, the container's sandbox,
//     image and image ID, log path, stop signal, start time, OOM kill;
//   - io.nodeagent.annotation.<key>: the config's annotations, which also go
//     into the OCI spec's annotations (one too large for a label goes only
//     there).
//
// Status comes from containerd: the container's labels and its task's
// status, pid, exit code and exit time. A filtered List* (one pod's) has
// containerd filter by label and asks its shims for those tasks only; an
// unfiltered one lists every task at once. A started container whose task is
// gone (the node rebooted) is Exited with code 255, "ContainerStatusUnknown".
// An OOM kill is recorded as a label when Events sees its event, so it is
// reported as "OOMKilled" only if someone subscribed (the agent always is).
//
// # Logs
//
// Container output never passes through the agent. The task's stdout and
// stderr go to containerd's binary logging: the shim runs
// `<LoggerBinary> cri-logger <log path>` (nodeagent-logger, built from
// cri/crilogger alone, or nodeagent itself), which appends
// CRI-format records ("<time> stdout F <line>", lines over crilog.MaxLine split
// into "P" records) to the log file, and keeps running while the agent
// restarts. It ends when the task is deleted. A container created with a
// LogRotation (label io.nodeagent.cri.log-rotation) has its logger rotate
// the file at that size (crilog.File: <path>.<time>, the newest MaxFiles
// kept); the shim passes the logger's arguments as a URI query in no fixed
// order, so the path and the rotation travel as one file URL,
// file://<path>?max-size=N&max-files=M. ExecSync's output is captured
// through FIFOs in Config.FIFODir, removed when the exec ends.
//
// # Stdin, TTY, exec, attach, port-forward
//
// A container created with Stdin or TTY (label io.nodeagent.cri.stdio)
// keeps its stdio in the runtime instead, as containerd's CRI plugin does
// in containerd: its task's stdin, stdout and stderr (one terminal with
// TTY) are FIFOs in <FIFODir>/ctr-<id>/, which the runtime reads into the
// CRI log (the same records, rotated alike) and to every attached client, and which
// attached clients write. The shim holds the stdin FIFO open itself, so
// clients come and go without closing it; StdinOnce closes it (CloseIO)
// when the first client's stdin ends. Such a container's output passes
// through the agent: while no runtime runs it waits in the FIFO (up to the
// pipe's 64 KiB, then the process blocks on writing); a new Runtime (New)
// takes the FIFOs of running containers over, and Close gives them up,
// writing an incomplete line as a partial record for the next one to end.
// RemoveContainer removes the FIFOs. Attach to a container without stdio
// follows its log from the end instead (crilog), until it stops.
//
// Exec runs a process like ExecSync's, its stdio on FIFOs connected to the
// client's streams, with a terminal when asked (resized as the client
// says); the end of the client's stdin closes the process's (CloseIO).
// PortForward dials 127.0.0.1:<port> (then [::1]) inside the sandbox's
// network namespace, on a throwaway locked OS thread (internal/nsutil), and
// splices the connection with the client's stream.
//
// # Images
//
// Pulls use the docker resolver, plain HTTP for localhost and 127.0.0.1,
// and unpack for the snapshotter. An image's ID is its config digest; all
// names with that config are one image, and RemoveImage deletes them all,
// synchronously, so containerd collects the content before it returns.
// ImageFsInfo is statfs of the snapshotter's root directory (containerd's
// introspection names it) and the size of the namespace's content.
//
// # Events
//
// Events subscribes to /tasks/start, /tasks/exit, /tasks/oom,
// /containers/create and /containers/delete in the namespace, skips exec
// processes, and names each event's pod from a cache of container labels
// (filled from a full list at subscription, so deletions still know their
// pod). The channel closes when the subscription breaks: relist and
// subscribe again.
//
// # Cleaning up
//
// RemoveContainer and RemovePodSandbox kill what still runs and delete
// tasks, containers and snapshots; what is already gone is not an error.
// Pod cgroup parents, log files and the network namespace belong to the
// caller.
package containerd
