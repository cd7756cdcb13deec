#!/usr/bin/env bash
# make clean-host: removes everything nodeagent's hack/ scripts, tests and
# demo put on this machine: lab nodes, containers, service rules, the containerd and registry
# services, their state, configuration, logs, and the containerd binaries that
# install-deps built. Debian packages are left installed, and so is the VM
# base image cache (/var/cache/nodeagent/vm: rm -rf it to rebuild from scratch).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap on_error ERR
need_root

# Every checkout's VMs: the lab nodes and the state go below for all of them.
step "VMs (hack/vm/vm.sh down --all-checkouts: their qemu, taps, bridges, namespaces, overlays)"
bash "$REPO_ROOT/hack/vm/vm.sh" down --all-checkouts

step "lab nodes"
if [ -x "$REPO_ROOT/bin/nodeagent" ] || build_nodeagent; then
  "$REPO_ROOT/bin/nodeagent" lab down --all
fi

step "pods of an agent that ran on this host (nodeagent agent --cleanup)"
if ctr_na version >/dev/null 2>&1; then
  "$REPO_ROOT/bin/nodeagent" agent --cleanup || true
fi

step "service rules of a proxy that ran on this host (nodeagent proxy --cleanup)"
# The iptables mode uses kube-proxy's chain names (KUBE-*): where a real
# kube-proxy runs too, its chains would go as well, so this is skipped there.
if pgrep -x kube-proxy >/dev/null; then
  echo "    a kube-proxy runs here: leaving KUBE-* chains alone (run 'nodeagent proxy --cleanup' by hand if they are nodeagent's)"
else
  "$REPO_ROOT/bin/nodeagent" proxy --cleanup || true
fi

step "containers in nodeagent's containerd"
if ctr_na version >/dev/null 2>&1; then
  for ns in $(ctr_na namespaces ls -q); do
    for task in $(ctr_na -n "$ns" tasks ls -q); do
      ctr_na -n "$ns" tasks kill -s SIGKILL "$task" || true
      wait_for 10 "task $task to stop" ctr_na -n "$ns" tasks delete "$task" || true
    done
    for c in $(ctr_na -n "$ns" containers ls -q); do ctr_na -n "$ns" containers delete "$c" || true; done
  done
fi

step "services"
stop_service nodeagent-registry
stop_service nodeagent-containerd

step "mounts under $NA_RUN and $NA_STATE"
for dir in "$NA_RUN" "$NA_STATE"; do
  awk -v d="$dir" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m"; done
done

step "loop devices of volumes under $NA_STATE (agent --cleanup detached them unless it failed)"
for f in /sys/block/loop*/loop/backing_file; do
  [ -e "$f" ] || continue
  case "$(cat "$f")" in
    "$NA_STATE"/*) dev="/dev/$(basename "$(dirname "$(dirname "$f")")")"; losetup -d "$dev" || true ;;
  esac
done

step "cgroups under /nodeagent"
find /sys/fs/cgroup/*/nodeagent -depth -type d -exec rmdir {} + 2>/dev/null || true

step "state, configuration, logs and installed binaries"
if [ -f "$NA_LIBEXEC/installed-files" ]; then
  xargs -r rm -f <"$NA_LIBEXEC/installed-files"
fi
rm -rf "$NA_STATE" "$NA_RUN" "$NA_ETC" "$NA_LOG" "$NA_LIBEXEC" /etc/cni/net.d/10-nodeagent.conflist /etc/modules-load.d/nodeagent.conf
rmdir /var/log/pods 2>/dev/null || true
rm -rf "$REPO_ROOT/bin"
step "clean: Debian packages (${APT_PACKAGES[*]}) stay installed"
