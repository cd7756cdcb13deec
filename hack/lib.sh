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

# ANCHOR_DIR holds the programs the benches measure ours against, built once
# from the Go module proxy.
ANCHOR_DIR=/var/cache/nodeagent/anchors

# build_coredns builds CoreDNS from the Go module proxy into
# $ANCHOR_DIR (once) and prints the binary's path.
build_coredns() {
  local dir=$ANCHOR_DIR
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

# KUBE_VERSION is the Kubernetes whose kube-apiserver the API server bench
# measures beside ours (and whose kube-controller-manager is built with it);
# its staging modules are the v0.<minor>.<patch> that go.mod names.
# ETCD_VERSION is the etcd that KUBE_VERSION's build/dependencies.yaml names.
KUBE_VERSION=v1.37.2
ETCD_VERSION=v3.7.0

# KUBE_COMMANDS are what build_kube builds from k8s.io/kubernetes.
KUBE_COMMANDS="kube-apiserver kube-controller-manager kube-proxy kube-scheduler"

# build_kube NAME: builds the $KUBE_COMMANDS at $KUBE_VERSION into
# $ANCHOR_DIR (once, the missing ones in one go build) and prints NAME's
# path. The build is a throwaway module in a temp dir that requires
# k8s.io/kubernetes and replaces every staging module its go.mod points at
# ./staging with the published version of the same release.
build_kube() {
  local name=$1 bin=$ANCHOR_DIR/$1-$KUBE_VERSION cmd missing=()
  case " $KUBE_COMMANDS " in
    *" $name "*) ;;
    *) die "build_kube builds one of $KUBE_COMMANDS, not '$name'" ;;
  esac
  for cmd in $KUBE_COMMANDS; do
    [ -x "$ANCHOR_DIR/$cmd-$KUBE_VERSION" ] || missing+=("$cmd")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    mkdir -p "$ANCHOR_DIR"
    local tmp
    tmp=$(mktemp -d "$ANCHOR_DIR/build.XXXXXX")
    if ! (cd "$tmp" && kube_build_module "${missing[@]}" && kube_build "${missing[@]}") >&2; then
      rm -rf "$tmp"
      return 1
    fi
    for cmd in "${missing[@]}"; do
      mv "$tmp/$cmd" "$ANCHOR_DIR/$cmd-$KUBE_VERSION"
    done
    rm -rf "$tmp"
  fi
  echo "$bin"
}

# kube_build_module CMD...: writes the throwaway module into the current
# directory. (It runs where set -e does not hold, so each step returns on
# failure.)
kube_build_module() {
  local staging=v0.${KUBE_VERSION#v1.} gomod mod cmd pkgs=()
  gomod=$(go mod download -json k8s.io/kubernetes@"$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p') || return 1
  [ -f "$gomod" ] || { echo "no go.mod for k8s.io/kubernetes@$KUBE_VERSION in the module cache" >&2; return 1; }
  go mod init nodeagent.local/anchor-kube || return 1
  go mod edit -go="$(sed -n 's/^go //p' "$gomod")" -require=k8s.io/kubernetes@"$KUBE_VERSION" || return 1
  for mod in $(sed -n 's|^[[:space:]]*\(k8s.io/[^[:space:]]*\) => ./staging/.*|\1|p' "$gomod"); do
    go mod edit -replace="$mod=$mod@$staging" || return 1
  done
  for cmd in "$@"; do
    pkgs+=("k8s.io/kubernetes/cmd/$cmd@$KUBE_VERSION")
  done
  GOFLAGS=-mod=mod go get "${pkgs[@]}"
}

# kube_build CMD...: builds the commands into the current directory,
# stamped with $KUBE_VERSION as release builds are. One build at a time: it
# takes minutes.
kube_build() {
  local v=k8s.io/component-base/version minor=${KUBE_VERSION#v1.} cmd pkgs=()
  minor=${minor%%.*}
  for cmd in "$@"; do
    pkgs+=("k8s.io/kubernetes/cmd/$cmd")
  done
  CGO_ENABLED=0 go build -trimpath -o . -ldflags "-s -w -X $v.gitVersion=$KUBE_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean" \
    "${pkgs[@]}"
}

# build_etcd builds the etcd server at $ETCD_VERSION into $ANCHOR_DIR (once)
# and prints the binary's path. go install cannot build it (its go.mod
# replaces its sibling modules with directories), so a throwaway module
# requires it and builds its main package.
build_etcd() {
  local bin=$ANCHOR_DIR/etcd-$ETCD_VERSION
  if [ ! -x "$bin" ]; then
    mkdir -p "$ANCHOR_DIR"
    local tmp
    tmp=$(mktemp -d "$ANCHOR_DIR/build.XXXXXX")
    if ! (cd "$tmp" && go mod init nodeagent.local/anchor-etcd &&
      GOFLAGS=-mod=mod go get go.etcd.io/etcd/server/v3@"$ETCD_VERSION" &&
      CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o etcd go.etcd.io/etcd/server/v3) >&2; then
      rm -rf "$tmp"
      return 1
    fi
    mv "$tmp/etcd" "$bin"
    rm -rf "$tmp"
  fi
  echo "$bin"
}

# The third-party operators the compatibility tests run against the bundled
# server, built from the Go module proxy like the Kubernetes commands
# (cert-manager's controller is not among them: its command is a module of
# its own, github.com/cert-manager/cert-manager/cmd/controller, which the
# proxy does not serve). sealed-secrets is v0.27.1: its later releases
# name their module github.com/bitnami/sealed-secrets, which the proxy refuses.
KUBE_STATE_METRICS_VERSION=v2.20.0
SEALED_SECRETS_VERSION=v0.27.1
PROMETHEUS_OPERATOR_VERSION=v0.85.0

# build_go_command NAME PACKAGE VERSION [LDFLAGS]: builds PACKAGE (a main
# package) of its module at VERSION into $ANCHOR_DIR/NAME-VERSION (once)
# and prints the binary's path. The build is a throwaway module in a temp
# dir that requires the package at VERSION, so that the versions its
# module's go.mod pins are the ones built (go install would do the same,
# but it refuses modules whose go.mod has replace directives).
build_go_command() {
  local name=$1 pkg=$2 version=$3 ldflags=${4:-} bin=$ANCHOR_DIR/$1-$3
  if [ ! -x "$bin" ]; then
    mkdir -p "$ANCHOR_DIR"
    local tmp
    tmp=$(mktemp -d "$ANCHOR_DIR/build.XXXXXX")
    if ! (cd "$tmp" && go mod init "nodeagent.local/anchor-$name" &&
      GOFLAGS=-mod=mod go get "$pkg@$version" &&
      CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $ldflags" -o "$name" "$pkg") >&2; then
      rm -rf "$tmp"
      return 1
    fi
    mv "$tmp/$name" "$bin"
    rm -rf "$tmp"
  fi
  echo "$bin"
}

# go_module_dir MODULE VERSION: downloads MODULE at VERSION into the module
# cache (once) and prints its directory there: where the tests read the
# manifests (CRDs) an operator ships in its source.
go_module_dir() {
  go mod download -json "$1@$2" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

# build_kube_state_metrics prints the path of kube-state-metrics at
# $KUBE_STATE_METRICS_VERSION, built once.
build_kube_state_metrics() {
  local v=github.com/prometheus/common/version
  build_go_command kube-state-metrics k8s.io/kube-state-metrics/v2 "$KUBE_STATE_METRICS_VERSION" \
    "-X $v.Version=${KUBE_STATE_METRICS_VERSION#v}"
}

# build_sealed_secrets_controller prints the path of sealed-secrets'
# controller at $SEALED_SECRETS_VERSION, built once.
build_sealed_secrets_controller() {
  build_go_command sealed-secrets-controller github.com/bitnami-labs/sealed-secrets/cmd/controller "$SEALED_SECRETS_VERSION" \
    "-X main.VERSION=$SEALED_SECRETS_VERSION"
}

# build_kubeseal prints the path of sealed-secrets' client at
# $SEALED_SECRETS_VERSION, built once: the tests seal a Secret with it.
build_kubeseal() {
  build_go_command kubeseal github.com/bitnami-labs/sealed-secrets/cmd/kubeseal "$SEALED_SECRETS_VERSION" \
    "-X main.VERSION=$SEALED_SECRETS_VERSION"
}

# build_prometheus_operator prints the path of prometheus-operator at
# $PROMETHEUS_OPERATOR_VERSION, built once.
build_prometheus_operator() {
  local v=github.com/prometheus/common/version
  build_go_command prometheus-operator github.com/prometheus-operator/prometheus-operator/cmd/operator \
    "$PROMETHEUS_OPERATOR_VERSION" "-X $v.Version=${PROMETHEUS_OPERATOR_VERSION#v}"
}
