#!/usr/bin/env bash
# hack/bench.sh [--quick] [--only apiserver|agent|proxy|gc|dns] [--agent-FLAG=V...]
#               [--proxy-FLAG=V...] [--dns-FLAG=V...] [APISERVER FLAGS...]:
# benchmark the API server (bench/apiserver, beside kube-apiserver on etcd,
# both built once from the Go module proxy into
# /var/cache/nodeagent/anchors), the agent (bench/agent) and the
# service proxy backends (bench/proxy), the garbage collectors (bench/gc,
# on the fake runtime) and the cluster DNS beside CoreDNS (bench/dns; CoreDNS
# is built once from the Go module proxy into /var/cache/nodeagent/anchors).
# Builds bin/nodeagent and the three benches and runs them, one after the
# other; each prints a report. --quick makes all three short; flags starting
# with --agent- go to the agent bench without that prefix (e.g.
# --agent-exits=20), flags starting with --proxy- to the proxy bench likewise
# (e.g. --proxy-sizes=100,1000, --proxy-modes=nftables), the rest to the API
# server bench. The agent and proxy benches need root: the agent bench runs
# in a lab node (a network namespace) on nodeagent's containerd, the proxy
# bench programs iptables and nftables in throwaway lab namespaces, and
# measures a real kube-proxy (built once like kube-apiserver, which feeds it)
# beside them in a lab namespace of its own, then `nodeagent proxy` there
# the same way (its RSS beside kube-proxy's); without
# root they are skipped with a message. Everything they make is removed when
# they end; only 127.0.0.1 and addresses inside the lab namespaces are
# contacted.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap on_error ERR

api_args=() agent_args=() proxy_args=() dns_args=() only=""
while [ $# -gt 0 ]; do
  case $1 in
    --quick) api_args+=(--quick); agent_args+=(--quick); proxy_args+=(--quick); dns_args+=(--quick) ;;
    --only) only=$2; shift ;;
    --only=*) only=${1#--only=} ;;
    --agent-*) agent_args+=("--${1#--agent-}") ;;
    --proxy-*) proxy_args+=("--${1#--proxy-}") ;;
    --dns-*) dns_args+=("--${1#--dns-}") ;;
    *) api_args+=("$1") ;;
  esac
  shift
done
case $only in
  "" | apiserver | agent | proxy | gc | dns) ;;
  *) die "--only takes apiserver, agent, proxy, gc or dns, not '$only'" ;;
esac

cd "$REPO_ROOT"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nodeagent-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

step "build bin/nodeagent and its per-pod helpers"
build_nodeagent

step "build the benches"
go build -o "$tmp/apiserver-bench" ./bench/apiserver
go build -o "$tmp/agent-bench" ./bench/agent
go build -o "$tmp/proxy-bench" ./bench/proxy
go build -o "$tmp/gc-bench" ./bench/gc
go build -o "$tmp/dns-bench" ./bench/dns

# wants NAME: whether the NAME bench is to run (--only).
wants() { [ -z "$only" ] || [ "$only" = "$1" ]; }

# run_as_root NAME CMD...: runs the NAME bench, or says why it is skipped.
run_as_root() {
  local name=$1
  shift
  if [ "$(id -u)" -ne 0 ]; then
    echo "$name bench skipped: it needs root (run 'sudo make bench')"
    return 0
  fi
  step "run the $name bench"
  TMPDIR=$tmp "$@"
}

if wants apiserver; then
  anchor=()
  step "build kube-apiserver $KUBE_VERSION and etcd $ETCD_VERSION (the anchor), once"
  if kube=$(build_kube kube-apiserver) && etcd=$(build_etcd); then
    anchor=(--kube-apiserver "$kube" --etcd "$etcd")
  else
    echo "kube-apiserver or etcd not built (see above): measuring nodeagent's API server alone"
  fi
  step "run the API server bench"
  TMPDIR=$tmp "$tmp/apiserver-bench" --bin "$REPO_ROOT/bin/nodeagent" ${anchor[@]+"${anchor[@]}"} ${api_args[@]+"${api_args[@]}"}
fi
if wants agent; then
  run_as_root agent "$tmp/agent-bench" --bin "$REPO_ROOT/bin/nodeagent" ${agent_args[@]+"${agent_args[@]}"}
fi
if wants proxy; then
  kubeproxy=()
  if [ "$(id -u)" -eq 0 ]; then
    step "build kube-proxy and kube-apiserver $KUBE_VERSION and etcd $ETCD_VERSION (the anchor), once"
    if kp=$(build_kube kube-proxy) && kube=$(build_kube kube-apiserver) && etcd=$(build_etcd); then
      kubeproxy=(--kube-proxy "$kp" --kube-apiserver "$kube" --etcd "$etcd" --nodeagent "$REPO_ROOT/bin/nodeagent")
    else
      echo "kube-proxy, kube-apiserver or etcd not built (see above): measuring nodeagent's proxy alone"
    fi
  fi
  run_as_root proxy "$tmp/proxy-bench" ${kubeproxy[@]+"${kubeproxy[@]}"} ${proxy_args[@]+"${proxy_args[@]}"}
fi
if wants gc; then
  step "run the gc bench"
  quick=()
  for a in ${api_args[@]+"${api_args[@]}"}; do [ "$a" = --quick ] && quick=(--quick); done
  TMPDIR=$tmp "$tmp/gc-bench" ${quick[@]+"${quick[@]}"}
fi
if wants dns; then
  coredns=()
  if [ "$(id -u)" -eq 0 ]; then
    step "build CoreDNS $COREDNS_VERSION (the anchor), once"
    if bin=$(build_coredns); then coredns=(--coredns "$bin"); else echo "CoreDNS not built: measuring nodeagent's DNS alone"; fi
  fi
  run_as_root dns "$tmp/dns-bench" --bin "$REPO_ROOT/bin/nodeagent" ${coredns[@]+"${coredns[@]}"} ${dns_args[@]+"${dns_args[@]}"}
fi
