#!/usr/bin/env bash
# hack/vm/vm.sh up|down|ssh|list ...: Debian VMs under KVM, each inside a lab
# network namespace of its own, or several on one bridge in a shared one
# (VM_LAB=LAB vm.sh up NAME; see hack/vm/lib.sh for the network rule).
#   vm.sh up NAME [--kit DIR]  boot a fresh VM (a qcow2 overlay on the cached
#                            base image; `make vm` builds the base); DIR goes
#                            in as a read-only disk labelled nodeagent-kit
#                            (faster than scp under TCG)
#   vm.sh ssh NAME [CMD...]  run CMD (or a shell) as root in the VM
#   vm.sh down NAME          stop it and remove its overlay and tap, and the bridge
#                            and namespace when no other VM is in them
#   vm.sh down --all         the same for every VM this checkout started (also:
#                            vm.sh --cleanup); other checkouts' VMs (worktrees
#                            share the machine) stay, and are listed
#   vm.sh down --all-checkouts  every VM of the machine, whoever started it, and
#                            the namespaces of VMs whose state is gone (make
#                            clean-host)
#   vm.sh list               every VM, with the checkout that started it
# The serial console goes to /var/log/nodeagent/vm/NAME.console.log and stays
# there after the VM is gone, for failures.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
trap on_error ERR
need_root

nodeagent_bin() {
  [ -x "$REPO_ROOT/bin/nodeagent" ] || build_nodeagent
  echo "$REPO_ROOT/bin/nodeagent"
}

valid_name() {
  [[ $1 =~ ^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$ ]] || die "VM name \"$1\": want 1-32 lower-case letters, digits or '-', not starting or ending with '-'"
}

# network NAME: the lab namespace with a bridge (made by the first VM in
# it; VMs that come up together take turns: flock) and the VM's tap on
# that bridge. $VM_STATE/.network.lock is that lock's file and stays, empty:
# removed while a VM comes up, the next `up` would lock a new file while
# the one before still holds the old one, and both would make the bridge
# (make clean-host removes it with the state).
network() {
  local name=$1 ns tap bin
  ns=$(vm_ns "$name")
  tap=$(vm_tap "$name")
  bin=$(nodeagent_bin)
  (
    flock 9
    if ! ip -n "$ns" link show "$VM_BRIDGE" >/dev/null 2>&1; then
      "$bin" lab up "$(vm_lab "$name")" >/dev/null
      ip -n "$ns" link add "$VM_BRIDGE" type bridge
      ip -n "$ns" addr add "$VM_NET.1/24" dev "$VM_BRIDGE"
      ip -n "$ns" link set "$VM_BRIDGE" up
    fi
  ) 9>"$VM_STATE/.network.lock"
  ip -n "$ns" tuntap add dev "$tap" mode tap
  ip -n "$ns" link set "$tap" master "$VM_BRIDGE" up
}

# vms_in LAB: the VMs (with a state directory) that live in lab LAB.
vms_in() {
  local d
  for d in "$VM_STATE"/*/lab; do
    [ -f "$d" ] && [ "$(cat "$d")" = "$1" ] && basename "$(dirname "$d")"
  done
  return 0
}

# checkout: this checkout's top directory, which a VM records as the one
# that started it ($VM_STATE/NAME/checkout).
checkout() { (cd "$REPO_ROOT" && pwd -P); }

# vm_checkout NAME: the checkout that started the VM ("": unknown, an older
# vm.sh's VM or a namespace whose state is gone).
vm_checkout() { cat "$(vm_dir "$1")/checkout" 2>/dev/null || true; }

# ours: the VMs this checkout started.
ours() {
  local n me
  me=$(checkout)
  for n in $(names); do
    [ "$(vm_checkout "$n")" != "$me" ] || echo "$n"
  done
}

# down_ours: down --all and --cleanup: this checkout's VMs; the others are
# listed, not touched.
down_ours() {
  local n mine
  mine=$(ours)
  for n in $mine; do down "$n"; done
  for n in $(names); do
    echo "    left: VM $n, started by $(vm_checkout "$n" | grep . || echo "an unknown checkout") (vm.sh down $n, or down --all-checkouts)"
  done
}

# address_free NAME: no other VM in NAME's lab has NAME's address (the
# address comes from a hash of the name).
address_free() {
  local other
  for other in $(vms_in "$(vm_lab "$1")"); do
    [ "$other" = "$1" ] || [ "$(vm_index "$other")" != "$(vm_index "$1")" ] ||
      die "VMs $1 and $other would both be $(vm_ip "$1") in lab $(vm_lab "$1"): pick another name"
  done
}

# accel: the qemu accelerator options. VM_ACCEL=kvm|tcg|auto (default auto).
# auto uses KVM when /dev/kvm is there AND runs the image's kernel: a
# probe boots it under KVM (no disk) and wants its banner on the serial
# console within 20 s (a working KVM prints it in about a second). The
# result is cached per host kernel and base image. On this machine /dev/kvm
# exists but its KVM crawls (about a VM exit per guest loop iteration: the
# kernel's decompressor does not finish in minutes), so auto picks TCG here.
accel() {
  local mode=${VM_ACCEL:-auto} base cache
  base=$(vm_base_dir)
  cache="$base/accel-$(uname -r)"
  if [ "$mode" = auto ]; then
    if [ ! -w /dev/kvm ]; then
      mode=tcg
      echo "    /dev/kvm is missing: TCG (software emulation, slower)" >&2
    elif [ -f "$cache" ]; then
      mode=$(cat "$cache")
    else
      mode=$(probe_kvm "$base")
      echo "$mode" >"$cache"
    fi
  fi
  case $mode in
  # -arch-capabilities: under nested KVM the host CPU model can carry an
  # ARCH_CAPABILITIES MSR value the outer hypervisor refuses.
  kvm) echo "-accel kvm -cpu host,-arch-capabilities" ;;
  tcg) echo "-accel tcg,thread=multi -cpu max" ;;
  *) die "VM_ACCEL=$mode: want kvm, tcg or auto" ;;
  esac
}

# probe_kvm BASE: prints kvm if the base's kernel prints its banner under KVM
# within 20 s, tcg otherwise.
probe_kvm() {
  local base=$1 log pid
  log=$(mktemp)
  qemu-system-x86_64 -machine q35 -accel kvm -cpu host,-arch-capabilities -smp 1 -m 256 \
    -nodefaults -display none -kernel "$base/vmlinuz" -append "console=ttyS0" \
    -serial "file:$log" </dev/null >/dev/null 2>&1 &
  pid=$!
  if wait_for 20 "the kernel's banner under KVM" grep -q "Linux version" "$log" 2>/dev/null; then
    echo kvm
  else
    echo "    KVM here does not boot the VM's kernel within 20 s: using TCG (software emulation, slower)" >&2
    echo tcg
  fi
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$log"
}

# boot NAME: qemu in the VM's namespace, daemonized, on an overlay of the base.
boot() {
  local name=$1 base dir ip acc
  base=$(vm_base_dir)
  dir=$(vm_dir "$name")
  ip=$(vm_ip "$name")
  acc=$(accel)
  qemu-img create -q -f qcow2 -F raw -b "$base/root.img" "$dir/disk.qcow2"
  local kit=()
  if [ -n "$2" ]; then
    mke2fs -q -F -t ext4 -L nodeagent-kit -d "$2" "$dir/kit.img" "$(($(du -sm "$2" | cut -f1) * 12 / 10 + 32))M" >/dev/null
    kit=(-drive "file=$dir/kit.img,if=virtio,format=raw,readonly=on")
  fi
  cp "$base/known_hosts" "$dir/known_hosts"
  mkdir -p "$VM_LOGS"
  : >"$VM_LOGS/$name.console.log"
  ip netns exec "$(vm_ns "$name")" qemu-system-x86_64 \
    -name "nodeagent-vm-$name" -machine q35 $acc \
    -smp "$VM_CPUS" -m "$VM_MEM" -nodefaults -display none \
    -kernel "$base/vmlinuz" -initrd "$base/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 net.ifnames=0 ip=$ip::$VM_NET.1:255.255.255.0:$name:eth0:off systemd.hostname=$name" \
    -drive "file=$dir/disk.qcow2,if=virtio,format=qcow2,discard=unmap" \
    -netdev "tap,id=n0,ifname=$(vm_tap "$name"),script=no,downscript=no" \
    -device "virtio-net-pci,netdev=n0,mac=52:54:00:77:00:$(printf '%02x' "$(vm_index "$name")")" \
    -device virtio-rng-pci "${kit[@]}" \
    -serial "file:$VM_LOGS/$name.console.log" \
    -pidfile "$dir/qemu.pid" -daemonize
}

# on_up_error NAME: a VM that did not come up is removed, whatever step failed.
on_up_error() {
  local rc=$?
  trap - EXIT
  [ "$rc" -ne 0 ] || return 0
  printf 'error: step "%s" failed (exit %d); removing VM %s (console: %s)\n' "$CURRENT_STEP" "$rc" "$1" "$VM_LOGS/$1.console.log" >&2
  down "$1" || true
  exit "$rc"
}

up() {
  local name=$1 kit=${2:-} dir
  valid_name "$name"
  dir=$(vm_dir "$name")
  [ ! -e "$dir" ] || die "VM $name exists ($dir): 'hack/vm/vm.sh down $name' first"
  [ -f "$(vm_base_dir)/root.img" ] || bash "$REPO_ROOT/hack/vm/image.sh"
  address_free "$name"
  step "VM $name: network namespace $(vm_ns "$name"), bridge $VM_BRIDGE, tap $(vm_tap "$name")"
  mkdir -p "$dir"
  trap "on_up_error $name" EXIT # name is validated: no quoting needed
  checkout >"$dir/checkout"
  vm_lab "$name" >"$dir/lab.tmp" && mv "$dir/lab.tmp" "$dir/lab"
  network "$name"
  step "VM $name: boot ($VM_CPUS vCPU, $VM_MEM MiB, console $VM_LOGS/$name.console.log)"
  boot "$name" "$kit"
  step "VM $name: wait for ssh on $(vm_ip "$name")"
  # 300 s: under TCG on a busy machine the boot alone takes 50-150 s
  # (VM_BOOT_TIMEOUT: more for VMs that boot together).
  if ! wait_for "${VM_BOOT_TIMEOUT:-300}" "ssh into VM $name" vm_ssh "$name" true; then
    tail -n 40 "$VM_LOGS/$name.console.log" >&2 || true
    false
  fi
  trap - EXIT
  echo "    up: hack/vm/vm.sh ssh $name"
}

# stop_qemu NAME: TERM, then KILL, the VM's qemu.
stop_qemu() {
  local pidfile pid
  pidfile=$(vm_dir "$1")/qemu.pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null && grep -q qemu "/proc/$pid/comm" 2>/dev/null; then
    kill -TERM "$pid"
    wait_for 20 "qemu $pid to exit" bash -c "! kill -0 $pid" || kill -KILL "$pid" || true
  fi
}

down() {
  local name=$1 lab ns
  valid_name "$name"
  lab=$(vm_lab "$name")
  ns=nalab-$lab
  stop_qemu "$name"
  if [ -d "$(vm_dir "$name")" ]; then
    ip -n "$ns" link del "$(vm_tap "$name")" 2>/dev/null || true
    rm -rf "$(vm_dir "$name")"
  fi
  # The last VM of a lab takes it down: lab down kills whatever still runs
  # in the namespace and removes it, with the bridge in it.
  if [ -z "$(vms_in "$lab")" ] && ip netns list | grep -qx "$ns\( .*\)\?"; then
    "$(nodeagent_bin)" lab down "$lab" >/dev/null
  fi
}

names() {
  {
    [ -d "$VM_STATE" ] && ls "$VM_STATE"
    ip netns list | awk '{print $1}' | sed -n 's/^nalab-vm-//p'
  } | sort -u
}

list() {
  local n
  for n in $(names); do
    printf '%s\t%s\n' "$n" "$(vm_checkout "$n" | grep . || echo "(unknown checkout)")"
  done
}

case "${1:-}" in
up)
  if [ $# -eq 2 ]; then
    up "$2"
  elif [ $# -eq 4 ] && [ "$3" = --kit ] && [ -d "$4" ]; then
    up "$2" "$4"
  else
    die "usage: vm.sh up NAME [--kit DIR]"
  fi
  ;;
down)
  [ $# -eq 2 ] || die "usage: vm.sh down NAME|--all|--all-checkouts"
  case $2 in
  --all) down_ours ;;
  --all-checkouts) for n in $(names); do down "$n"; done ;;
  *) down "$2" ;;
  esac
  ;;
--cleanup) down_ours ;;
ssh) [ $# -ge 2 ] || die "usage: vm.sh ssh NAME [CMD...]"; name=$2; shift 2; vm_ssh "$name" "$@" ;;
list) list ;;
*) die "usage: vm.sh up|down|ssh|list|--cleanup (see the top of hack/vm/vm.sh)" ;;
esac
