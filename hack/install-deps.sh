#!/usr/bin/env bash
# Installs and starts everything nodeagent needs on a Debian or Ubuntu machine,
# idempotently: Debian packages, containerd (built from source at a pinned
# version), a local image registry, their configuration, and both services.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap on_error ERR

need_root

install_packages() {
  step "Debian packages: ${APT_PACKAGES[*]}"
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    echo "    all present"
    return
  fi
  command -v apt-get >/dev/null || die "apt-get not found: install ${missing[*]} with your package manager"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# check_go runs before something is built from source: a machine that already
# has containerd and the registry (a VM that got them from its host, say)
# needs no Go toolchain here.
check_go() {
  command -v go >/dev/null || die "go not found: install Go >= 1.26 into /usr/local/go (it builds $1)"
  echo "    $(go version)"
}

# containerd_major prints the major version of the installed containerd, or 0.
containerd_major() {
  local v
  v=$(containerd --version 2>/dev/null | awk '{print $3}') || true
  v=${v#v}
  echo "${v%%.*}" | grep -E '^[0-9]+$' || echo 0
}

install_containerd() {
  step "containerd $CONTAINERD_VERSION"
  if [ "$(containerd_major)" -ge 2 ] && command -v containerd-shim-runc-v2 >/dev/null && command -v ctr >/dev/null; then
    echo "    present: $(containerd --version)"
    return
  fi
  check_go containerd
  local gobin
  gobin=$(mktemp -d)
  GOBIN=$gobin go install -tags no_btrfs \
    "github.com/containerd/containerd/v2/cmd/containerd@$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/ctr@$CONTAINERD_VERSION"
  install -m 0755 "$gobin/containerd" "$gobin/containerd-shim-runc-v2" "$gobin/ctr" /usr/local/bin/
  rm -rf "$gobin"
  # Remember what we installed, so that clean-host removes only that.
  mkdir -p "$NA_LIBEXEC"
  printf '%s\n' /usr/local/bin/containerd /usr/local/bin/containerd-shim-runc-v2 /usr/local/bin/ctr >"$NA_LIBEXEC/installed-files"
  containerd --version
}

install_registry() {
  step "image registry (distribution $REGISTRY_VERSION)"
  if [ -x "$NA_LIBEXEC/bin/registry" ]; then
    echo "    present"
    return
  fi
  check_go "the registry"
  mkdir -p "$NA_LIBEXEC/bin"
  GOBIN=$NA_LIBEXEC/bin go install "github.com/distribution/distribution/v3/cmd/registry@$REGISTRY_VERSION"
}

# kernel_modules: br_netfilter makes bridged traffic (a pod calling a Service
# whose backend sits on the same bridge) pass the service rules, so that the
# reply is un-NATed; kubeadm's install asks for the same. Loaded now and at
# every boot (systemd-modules-load). A kernel with it built in needs neither.
kernel_modules() {
  step "kernel module br_netfilter"
  if [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] && [ ! -d /sys/module/br_netfilter ]; then
    echo "    built in"
    return
  fi
  modprobe br_netfilter
  if [ -d /etc/modules-load.d ] || systemd_is_init; then
    mkdir -p /etc/modules-load.d
    echo br_netfilter >/etc/modules-load.d/nodeagent.conf
  fi
  echo "    loaded"
}

write_configs() {
  step "configuration in $NA_ETC"
  mkdir -p "$NA_ETC" "$NA_STATE" "$NA_RUN/containerd"
  install -m 0644 "$REPO_ROOT/hack/config/containerd.toml" "$CONTAINERD_CONFIG"
  install -m 0644 "$REPO_ROOT/hack/config/registry.yml" "$NA_ETC/registry.yml"
}

start_containerd() {
  step "start containerd (socket $CONTAINERD_ADDRESS)"
  start_service nodeagent-containerd /usr/local/bin/containerd --config "$CONTAINERD_CONFIG"
  wait_for 60 "containerd answering on $CONTAINERD_ADDRESS" ctr_na version
  ctr_na version | sed -n 's/^/    /p'
}

start_registry() {
  step "start the registry on $REGISTRY_ADDR"
  mkdir -p "$NA_STATE/registry"
  start_service nodeagent-registry "$NA_LIBEXEC/bin/registry" serve "$NA_ETC/registry.yml"
  wait_for 60 "registry answering on $REGISTRY_ADDR" curl -fsS "http://$REGISTRY_ADDR/v2/"
}

install_packages
kernel_modules
install_containerd
install_registry
write_configs
start_containerd
start_registry
step "dependencies ready"
