# shellcheck shell=bash
# Shared settings and helpers for hack/ scripts. Source it; do not run it.
# Every version is pinned here.

CONTAINERD_VERSION=v2.4.2
REGISTRY_VERSION=v3.0.0

NA_ETC=/etc/nodeagent
NA_STATE=/var/lib/nodeagent
NA_RUN=/run/nodeagent
NA_LIBEXEC=/usr/local/lib/nodeagent
NA_DEV_RUN=$NA_RUN/dev                 # pid files of supervised dev services
NA_LOG=/var/log/nodeagent

# The containerd that nodeagent uses: its own socket, root and state, so that
# it never collides with a containerd another tool runs on the same machine.
CONTAINERD_ADDRESS=$NA_RUN/containerd/containerd.sock
CONTAINERD_CONFIG=$NA_ETC/containerd.toml
CONTAINERD_NAMESPACE=nodeagent

REGISTRY_ADDR=127.0.0.1:5000
TEST_IMAGE=$REGISTRY_ADDR/nodeagent/testserver:v1

APT_PACKAGES=(runc containernetworking-plugins iptables nftables conntrack iproute2
  e2fsprogs xfsprogs util-linux curl busybox-static ca-certificates)

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH=/usr/local/go/bin:$PATH

CURRENT_STEP="start"

# step NAME: announce a step; a failure after it names the step.
step() {
  CURRENT_STEP=$1
  printf '==> %s\n' "$1"
}

die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# on_error is installed as the ERR trap by scripts that source this file.
on_error() {
  local rc=$?
  printf '\nerror: step "%s" failed (exit %d).\n' "$CURRENT_STEP" "$rc" >&2
  printf 'What to do: read the output above; logs of services are in %s.\n' "$NA_LOG" >&2
  printf 'Fix the cause and run the same command again: every step is idempotent.\n' >&2
  exit "$rc"
}

need_root() {
  [ "$(id -u)" -eq 0 ] || die "this needs root: run it with sudo (it installs packages, starts containerd and creates network namespaces)"
}

systemd_is_init() {
  [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] && [ -d /run/systemd/system ]
}

# wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND until it succeeds.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      printf 'error: %s did not happen within %ss\n' "$what" "$seconds" >&2
      return 1
    fi
    sleep 0.2
  done
}

# start_service NAME COMMAND...: run COMMAND as a service that restarts when it
# exits: a systemd unit where systemd is PID 1, otherwise a supervisor process
# with a pid file in $NA_DEV_RUN and a log in $NA_LOG.
start_service() {
  local name=$1
  shift
  mkdir -p "$NA_LOG" "$NA_DEV_RUN"
  if systemd_is_init; then
    start_systemd_service "$name" "$@"
  else
    start_supervised "$name" "$@"
  fi
}

start_systemd_service() {
  local name=$1
  shift
  local unit=/etc/systemd/system/$name.service
  cat >"$unit.tmp" <<UNIT
[Unit]
Description=$name (installed by nodeagent hack/)
After=network.target

[Service]
ExecStart=$*
Restart=always
RestartSec=1
Delegate=yes
KillMode=process
LimitNOFILE=1048576

[Install]
WantedBy=multi-user.target
UNIT
  mv "$unit.tmp" "$unit"
  systemctl daemon-reload
  systemctl enable --now "$name.service"
}

start_supervised() {
  local name=$1
  shift
  local pidfile=$NA_DEV_RUN/$name.pid
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    return 0
  fi
  install -m 0755 "$REPO_ROOT/hack/supervise.sh" "$NA_LIBEXEC/supervise"
  setsid "$NA_LIBEXEC/supervise" "$name" -- "$@" >>"$NA_LOG/$name.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

# stop_service NAME: stop a service started by start_service.
stop_service() {
  local name=$1 pidfile=$NA_DEV_RUN/$1.pid
  if systemd_is_init && [ -f "/etc/systemd/system/$name.service" ]; then
    systemctl disable --now "$name.service" || true
    rm -f "/etc/systemd/system/$name.service"
    systemctl daemon-reload
  fi
  if [ -f "$pidfile" ]; then
    local pid
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      wait_for 30 "$name to stop" bash -c "! kill -0 $pid" || kill -KILL "$pid" || true
    fi
    rm -f "$pidfile"
  fi
}

# ctr_na ARGS...: ctr against nodeagent's containerd.
ctr_na() {
  ctr --address "$CONTAINERD_ADDRESS" "$@" 2> >(grep -v 'support for cgroup v1 is deprecated' >&2)
}

# build_nodeagent: build bin/nodeagent from this checkout, and beside it the
# per-pod helpers the agent runs (bin/nodeagent-pause, bin/nodeagent-logger).
build_nodeagent() {
  (cd "$REPO_ROOT" && CGO_ENABLED=0 go build -o bin/ ./cmd/...)
}

# COREDNS_VERSION is the CoreDNS the DNS bench measures beside ours
# (kubeadm 1.33's).
COREDNS_VERSION=v1.12.0

# build_coredns builds CoreDNS from the Go module proxy into
# /var/cache/nodeagent/anchors (once) and prints the binary's path.
build_coredns() {
  local dir=/var/cache/nodeagent/anchors
  local bin=$dir/coredns-$COREDNS_VERSION
  if [ ! -x "$bin" ]; then
    mkdir -p "$dir"
    local tmp
    tmp=$(mktemp -d "$dir/build.XXXXXX")
    if ! GOBIN=$tmp go install "github.com/coredns/coredns@$COREDNS_VERSION" >&2; then
      rm -rf "$tmp"
      return 1
    fi
    mv "$tmp/coredns" "$bin"
    rm -rf "$tmp"
  fi
  echo "$bin"
}
