# shellcheck shell=bash
# Shared settings of hack/vm/*.sh: Debian VMs under KVM for nodeagent. Source
# it after hack/lib.sh; do not run it.
#
# Network safety: a VM's NIC is a tap on a bridge inside a lab network
# namespace (nalab-vm-NAME, made by `nodeagent lab up`; or one shared by
# several VMs, nalab-$VM_LAB, for make vm-cluster); qemu runs in that
# namespace and the host reaches the VM only from inside it (ssh through
# `ip netns exec`). Nothing of a VM touches the host's own network namespace.

VM_SUITE=bookworm
VM_MIRROR=${VM_MIRROR:-http://deb.debian.org/debian}
VM_CACHE=/var/cache/nodeagent/vm      # base images, keyed by a hash of their inputs; the ssh key
VM_STATE=${VM_STATE:-$NA_STATE/vm}    # one directory per running VM: its overlay, pid file, lab, checkout (tests: another)
VM_LOGS=$NA_LOG/vm                    # serial consoles, kept after a VM is gone
VM_CPUS=${VM_CPUS:-2}                 # at most 2: the machine is shared
VM_MEM=${VM_MEM:-2560}                # MiB
VM_DISK=${VM_DISK:-12G}               # the base image's size (sparse)
VM_KEY=$VM_CACHE/id_ed25519           # root's ssh key in every VM (0600)

VM_BRIDGE=navmbr0                     # inside the lab namespace only
VM_NET=10.77.0                        # /24 on that bridge; .1 is the bridge
VM_GUEST_DIR=/root/nodeagent          # where the checkout's install kit goes in the VM

# What the base image holds on top of Debian's "important" set: systemd as
# init, the kernel (ip_vs as a module, cgroup v2 by default), ssh, the network
# and filesystem tools, and every package `make deps` installs (APT_PACKAGES),
# so that the README's install works in a VM that has no route to a mirror.
VM_PACKAGES=(systemd systemd-sysv udev dbus linux-image-amd64 initramfs-tools zstd
  openssh-server iproute2 nftables iptables ipset ipvsadm kmod e2fsprogs xfsprogs
  ca-certificates make sudo procps less libnss-myhostname "${APT_PACKAGES[@]}")

# vm_lab NAME: the lab node (network namespace) a VM lives in: the one it
# came up in (recorded in its directory), else $VM_LAB (several VMs on one
# bridge, as make vm-cluster's), else its own, vm-NAME.
vm_lab() {
  local f
  f="$(vm_dir "$1")/lab"
  if [ -f "$f" ]; then cat "$f"; else echo "${VM_LAB:-vm-$1}"; fi
}
vm_ns() { echo "nalab-$(vm_lab "$1")"; }
# vm_tap NAME: the VM's tap on the bridge (one per VM, so that VMs share a bridge).
vm_tap() { echo "navm$(vm_index "$1")"; }

# vm_index NAME: the VM's number on the bridge (2..254), from its name.
vm_index() { echo $(( ($(printf '%s' "$1" | cksum | cut -d' ' -f1) % 200) + 10 )); }
vm_ip() { echo "$VM_NET.$(vm_index "$1")"; }
vm_dir() { echo "$VM_STATE/$1"; }

vm_ssh_opts() {
  echo "-i $VM_KEY -o UserKnownHostsFile=$(vm_dir "$1")/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5 -o ServerAliveInterval=5 -o ServerAliveCountMax=6 -o LogLevel=ERROR"
}

# vm_ssh NAME ARGS...: run a command as root in the VM, from inside its lab namespace.
vm_ssh() {
  local name=$1
  shift
  # shellcheck disable=SC2046
  ip netns exec "$(vm_ns "$name")" ssh $(vm_ssh_opts "$name") "root@$(vm_ip "$name")" "$@"
}

# vm_scp NAME SRC... DEST: copy host files to DEST in the VM.
vm_scp() {
  local name=$1
  shift
  local args=("$@")
  local dest=${args[-1]}
  unset 'args[-1]'
  # shellcheck disable=SC2046
  ip netns exec "$(vm_ns "$name")" scp -q $(vm_ssh_opts "$name") "${args[@]}" "root@$(vm_ip "$name"):$dest"
}

# vm_base_dir: the cached base image directory of the current inputs.
vm_base_dir() { echo "$VM_CACHE/base-$(vm_inputs_hash)"; }

# vm_inputs_hash: what the base image is built from: suite, mirror, package
# list, the build script, the ssh key.
vm_inputs_hash() {
  {
    echo "$VM_SUITE $VM_MIRROR $VM_DISK"
    printf '%s\n' "${VM_PACKAGES[@]}"
    cat "$REPO_ROOT/hack/vm/image.sh"
    cat "$VM_KEY.pub" 2>/dev/null
  } | sha256sum | cut -c1-16
}

# kit DIR: what the VM gets: the checkout's install files, nodeagent, the test
# image, and the host's containerd, registry and kubectl (the VM is offline).
kit() {
  local k=$1 f
  mkdir -p "$k/hack/vm" "$k/examples" "$k/bin/images" "$k/host"
  cp -r "$REPO_ROOT/Makefile" "$REPO_ROOT/README.md" "$k/"
  (cd "$REPO_ROOT" && cp -r hack/lib.sh hack/install-deps.sh hack/supervise.sh hack/config "$k/hack/" &&
    cp hack/vm/guest-install.sh "$k/hack/vm/" && cp -r examples/systemd "$k/examples/" &&
    cp bin/nodeagent bin/nodeagent-pause bin/nodeagent-logger "$k/bin/" && cp bin/images/testserver.tar "$k/bin/images/")
  for f in /usr/local/bin/containerd /usr/local/bin/containerd-shim-runc-v2 /usr/local/bin/ctr "$NA_LIBEXEC/bin/registry"; do
    [ -x "$f" ] || die "$f is missing: run 'sudo make deps' on this host first (the VM takes its build)"
    cp "$f" "$k/host/"
  done
  cp "$(host_kubectl)" "$k/host/kubectl"
}

# host_kubectl: a real kubectl binary of this host (not the gcloud dispatcher).
host_kubectl() {
  local k=${KUBECTL:-/usr/lib/google-cloud-sdk/bin/kubectl.1.32}
  [ -x "$k" ] || k=$(readlink -f "$(command -v kubectl)") || die "no kubectl on this host (set KUBECTL=/path/to/kubectl)"
  echo "$k"
}

# test_image: bin/images/testserver.tar, as hack/images.sh builds it.
test_image() {
  cd "$REPO_ROOT"
  [ -f bin/images/testserver.tar ] && return
  mkdir -p bin/images
  CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o bin/testserver ./images/testserver
  go run ./images/build --server bin/testserver --busybox /bin/busybox --ref "$TEST_IMAGE" --out bin/images/testserver.tar >/dev/null
}

# kit_copy_cmd DEST: the command that copies the kit disk (vm.sh up --kit) to
# DEST inside the VM.
kit_copy_cmd() {
  echo "set -e; mkdir -p /mnt/kit $1; mount -o ro /dev/disk/by-label/nodeagent-kit /mnt/kit; cp -a /mnt/kit/. $1/; rm -rf $1/lost+found; umount /mnt/kit"
}

# vm_diag NAME: what the host can see of a VM that stopped answering: its
# qemu threads (state, CPU ticks now and 2 s later: which ones spin), their
# stacks (gdb, when installed), the tap's packet counters and the lab's
# neighbour table (is the guest still sending, does it answer ARP).
vm_diag() {
  local name=$1 pid t ns
  pid=$(cat "$(vm_dir "$name")/qemu.pid" 2>/dev/null) || { echo "VM $name: no qemu pid file"; return 0; }
  kill -0 "$pid" 2>/dev/null || { echo "VM $name: qemu $pid is gone"; return 0; }
  ns=$(vm_ns "$name")
  echo "---- VM $name: qemu $pid threads (name state user+system ticks, then 2 s later) ----"
  vm_thread_ticks "$pid" >"/tmp/vm-diag.$$"
  sleep 2 # a sample interval, not a wait for a condition
  vm_thread_ticks "$pid" | join -a1 -j1 "/tmp/vm-diag.$$" - | awk '{printf "  %-24s %s %s -> %s\n", $1, $2, $3, $5}'
  rm -f "/tmp/vm-diag.$$"
  echo "---- VM $name: tap $(vm_tap "$name") counters (rx = from the guest) ----"
  ip -s -n "$ns" link show "$(vm_tap "$name")" 2>&1 | sed 's/^/  /'
  echo "---- lab $ns: neighbours ----"
  ip -n "$ns" neigh show 2>&1 | sed 's/^/  /'
  if command -v gdb >/dev/null; then
    echo "---- VM $name: qemu thread stacks ----"
    timeout 60 gdb -p "$pid" -batch -ex 'thread apply all bt 8' 2>/dev/null | grep -E '^(Thread|#)' | cut -c1-200 | sed "s/^/  /" | head -n 120
  fi
}

# vm_thread_ticks PID: "TID:name state ticks" per thread of PID, sorted.
vm_thread_ticks() {
  local t s rest
  for t in /proc/"$1"/task/*; do
    s=$(cat "$t/stat" 2>/dev/null) || continue
    rest=${s##*) }
    # shellcheck disable=SC2086
    set -- $rest
    echo "${t##*/}:$(tr ' ' _ <"$t/comm") $1 $((${12} + ${13}))"
  done | sort
}

# vm_console_report NAME: after a failure, the console's stall and crash
# reports (a guest whose vCPUs the busy host starved shows soft lockups and
# RCU stalls) and its last lines; a copy of the console is kept beside it
# (NAME.console.failed.log), since the next boot of NAME starts it anew.
vm_console_report() {
  local log=$VM_LOGS/$1.console.log
  [ -f "$log" ] || return 0
  cp "$log" "$VM_LOGS/$1.console.failed.log"
  echo "---- serial console of VM $1: stalls and crashes ----"
  grep -E 'soft lockup|hard LOCKUP|rcu: INFO|self-detected stall|blocked for more than|Kernel panic|BUG:|Out of memory' "$log" | head -n 20 || echo "  (none)"
  echo "---- serial console of VM $1 (last 20 lines; all of it: $VM_LOGS/$1.console.failed.log) ----"
  tail -n 20 "$log"
}
