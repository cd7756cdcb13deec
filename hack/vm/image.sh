#!/usr/bin/env bash
# make vm: builds the Debian 12 base image the VMs boot, from the Debian
# archive, and caches it in /var/cache/nodeagent/vm/base-HASH, HASH covering
# every input (suite, mirror, packages, this script, the ssh key): a rerun
# with the same inputs reuses it. The base holds:
#   root.img     ext4 root filesystem (mke2fs -d from an mmdebstrap tree),
#                never written: each VM boots a qcow2 overlay on it
#   vmlinuz, initrd.img   the image's own kernel and initramfs, for qemu
#                -kernel/-initrd (no bootloader)
#   known_hosts  the image's ssh host key, so that ssh checks it
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
trap on_error ERR
need_root

host_packages() {
  step "host packages: mmdebstrap qemu-system-x86 qemu-utils openssh-client e2fsprogs"
  local missing=() p
  for p in mmdebstrap qemu-system-x86 qemu-utils openssh-client e2fsprogs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && { echo "    all present"; return; }
  command -v apt-get >/dev/null || die "apt-get not found: install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

ssh_key() {
  step "ssh key $VM_KEY"
  mkdir -p "$VM_CACHE"
  chmod 0700 "$VM_CACHE"
  [ -f "$VM_KEY" ] || ssh-keygen -q -t ed25519 -N '' -C nodeagent-vm -f "$VM_KEY"
  chmod 0600 "$VM_KEY"
}

# customize runs in mmdebstrap's customize hook, with the root tree in $1.
customize() {
  local root=$1
  echo "nodeagent-vm" >"$root/etc/hostname"
  printf '/dev/vda / ext4 defaults,errors=remount-ro 0 1\n' >"$root/etc/fstab"
  install -d -m 0700 "$root/root/.ssh"
  install -m 0600 "$VM_KEY.pub" "$root/root/.ssh/authorized_keys"
  # The address comes from the kernel command line (ip=...), turned into a
  # networkd configuration by systemd-network-generator.
  chroot "$root" systemctl enable systemd-networkd systemd-network-generator
  # No mirror is reachable from a VM: keep apt's timers quiet; and no
  # filesystem scrubs in short-lived VMs (e2scrub_reap costs ~30 s of boot).
  chroot "$root" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service
  # A persistent journal, so that the logs outlive a reboot.
  install -d "$root/var/log/journal"
  # Each VM gets its own machine id at first boot.
  : >"$root/etc/machine-id"
  rm -f "$root/var/lib/dbus/machine-id"
}

build() {
  local base=$1 tmp
  tmp=$(mktemp -d "$VM_CACHE/.build-XXXXXX")
  # The partial build goes whatever happens; a finished one is renamed.
  trap 'rm -rf "$tmp"' EXIT
  step "mmdebstrap $VM_SUITE from $VM_MIRROR into $tmp/root"
  local IFS=,
  mmdebstrap --variant=minbase --include="${VM_PACKAGES[*]}" \
    --customize-hook="$REPO_ROOT/hack/vm/image.sh customize \"\$1\"" \
    "$VM_SUITE" "$tmp/root" "$VM_MIRROR"
  unset IFS
  step "kernel, initramfs and host key out of the tree"
  cp "$(ls "$tmp"/root/boot/vmlinuz-* | sort -V | tail -1)" "$tmp/vmlinuz"
  cp "$(ls "$tmp"/root/boot/initrd.img-* | sort -V | tail -1)" "$tmp/initrd.img"
  echo "$VM_NET.* $(cut -d' ' -f1,2 "$tmp/root/etc/ssh/ssh_host_ed25519_key.pub")" >"$tmp/known_hosts"
  step "ext4 root image ($VM_DISK, sparse) with mke2fs -d"
  mke2fs -q -F -t ext4 -L nodeagent-root -d "$tmp/root" "$tmp/root.img" "$VM_DISK"
  rm -rf "$tmp/root"
  chmod 0444 "$tmp/root.img"
  mv "$tmp" "$base"
  trap - EXIT
}

main() {
  host_packages
  ssh_key
  local base
  base=$(vm_base_dir)
  if [ -f "$base/root.img" ]; then
    step "base image: cached at $base"
    return
  fi
  build "$base"
  step "base image: built at $base; older bases removed"
  find "$VM_CACHE" -maxdepth 1 -name 'base-*' ! -path "$base" -exec rm -rf {} +
}

if [ "${1:-}" = customize ]; then
  customize "$2"
else
  main
fi
